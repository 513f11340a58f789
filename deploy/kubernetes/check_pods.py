#!/usr/bin/python3
"""The rank-mapping check of deploy/kubernetes/kubernetes_test.sh.

For every Job of the manifests and every completion index: the environment the pod gets
(read from the YAML, with JOB_COMPLETION_INDEX and POD_IP as Kubernetes sets them) run
through entrypoint.sh --print gives exactly the flags cloze reads. Then the printed
commands run on the real cloze binary (paths moved to this test's folder, addresses to
127.0.0.1): the coordinator serves, the servers and workers are still waiting on it after a
few seconds (their flags parsed, registered), a rank past the Job's completions is refused
naming --rank, and a misspelt flag fails at once (so the check can tell).

Debian's python3 with python3-yaml (deploy/setup.sh). Prints FAIL lines; exits 1 on any.
"""
import argparse
import os
import socket
import subprocess
import sys
import time

import yaml

FAILURES = []


def fail(message):
    FAILURES.append(message)
    print("FAIL:", message, flush=True)


def jobs_of(manifest):
    with open(manifest) as f:
        return [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "Job"]


def container(job):
    (c,) = job["spec"]["template"]["spec"]["containers"]
    return c


def pod_env(job, index, pod_ip="10.1.2.3"):
    """The environment Kubernetes gives the pod of `index`."""
    env = {}
    for e in container(job)["env"]:
        if "value" in e:
            env[e["name"]] = e["value"]
        elif e["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}:
            env[e["name"]] = pod_ip
        else:
            fail(f"{job['metadata']['name']}: env {e['name']}: a source this test does not know")
    if job["spec"].get("completionMode") == "Indexed":
        env["JOB_COMPLETION_INDEX"] = str(index)
    return env


def expected_command(env, index):
    """The command cloze must get, written out from the environment by hand."""
    role, token = env["CLOZE_ROLE"], "--job_token_file=" + env["CLOZE_JOB_TOKEN_FILE"]
    metrics = int(env["CLOZE_METRICS_PORT"])
    if role == "coordinator":
        return ["cloze", "coordinator", "--config=" + env["CLOZE_CONFIG"], "--run_dir=" + env["CLOZE_RUN_DIR"],
                "--workers=" + env["CLOZE_WORKERS"], "--ps=" + env.get("CLOZE_PS", "0"),
                "--device=" + env["CLOZE_DEVICE"], "--listen=0.0.0.0:" + env["CLOZE_COORDINATOR_PORT"],
                f"--metrics_address=0.0.0.0:{metrics}", token]
    coordinator = "--coordinator=" + env["CLOZE_COORDINATOR"]
    if role == "ps":
        return ["cloze", "ps", coordinator, token, f"--rank={index}",
                f"--listen={env['POD_IP']}:{env['CLOZE_PS_PORT']}", f"--metrics_address=0.0.0.0:{metrics}"]
    command = ["cloze", "worker", coordinator, token, f"--rank={index}",
               f"--metrics_address=0.0.0.0:{metrics - index}", "--device=" + env["CLOZE_DEVICE"]]
    if env["CLOZE_DEVICE"] == "cuda":
        command.append("--gpu=0")
    return command + env.get("CLOZE_EXTRA_FLAGS", "").split()


def printed_command(entrypoint, env):
    run = subprocess.run([entrypoint, "--print"], env=dict(env, PATH=os.environ["PATH"]), capture_output=True, text=True)
    if run.returncode != 0:
        fail(f"entrypoint.sh --print exited {run.returncode}: {run.stderr.strip()}")
        return []
    return run.stdout.splitlines()


def check_job_shape(where, job, sizes):
    spec, pod = job["spec"], job["spec"]["template"]["spec"]
    rules = {r["action"]: r for r in spec.get("podFailurePolicy", {}).get("rules", []) if "onExitCodes" in r}
    if sorted(rules.get("FailJob", {}).get("onExitCodes", {}).get("values", [])) != [2, 65, 66, 73]:
        fail(f"{where}: podFailurePolicy must fail the Job on exit 2, 65, 66, 73")
    if rules.get("Ignore", {}).get("onExitCodes", {}).get("values") != [75]:
        fail(f"{where}: podFailurePolicy must ignore (start again) exit 75")
    if pod.get("restartPolicy") != "Never":
        fail(f"{where}: restartPolicy must be Never (podFailurePolicy requires it)")
    if pod.get("terminationGracePeriodSeconds", 30) < 600:
        fail(f"{where}: terminationGracePeriodSeconds under 600 (a checkpoint must fit)")
    annotations = job["spec"]["template"]["metadata"].get("annotations", {})
    env = pod_env(job, 0)
    if annotations.get("prometheus.io/scrape") != "true" or annotations.get("prometheus.io/port") != env["CLOZE_METRICS_PORT"]:
        fail(f"{where}: prometheus.io/scrape and prometheus.io/port (= CLOZE_METRICS_PORT) annotations")
    volumes = {v["name"]: v for v in pod["volumes"]}
    if volumes["job-token"]["secret"].get("defaultMode") != 0o400:
        fail(f"{where}: the job token's Secret must be mounted with mode 0400")
    mounts = {m["name"]: m for m in container(job)["volumeMounts"]}
    token_dir = os.path.dirname(env["CLOZE_JOB_TOKEN_FILE"])
    if not mounts["job-token"].get("readOnly") or mounts["job-token"]["mountPath"] != token_dir:
        fail(f"{where}: the job token must be mounted read-only at {token_dir}")
    if container(job)["command"] != [mounts["entrypoint"]["mountPath"] + "/entrypoint.sh"]:
        fail(f"{where}: the command must be the ConfigMap's entrypoint.sh")
    role = env["CLOZE_ROLE"]
    if role != "coordinator":
        if spec.get("completionMode") != "Indexed":
            fail(f"{where}: {role}s must be an Indexed Job (rank = completion index)")
        if spec["completions"] != sizes[role] or spec["parallelism"] != sizes[role]:
            fail(f"{where}: completions and parallelism must be the coordinator's {role} count {sizes[role]}")
    gpus = container(job).get("resources", {}).get("limits", {}).get("nvidia.com/gpu")
    if (gpus == 1) != (env.get("CLOZE_DEVICE") == "cuda" and role == "worker"):
        fail(f"{where}: a cuda worker has exactly nvidia.com/gpu: 1, nothing else a GPU")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def localized(command, root, token, coordinator):
    """The command with the pod's paths under `root` and its addresses on 127.0.0.1."""
    out = []
    for arg in command:
        name, _, value = arg.partition("=")
        if name == "--job_token_file":
            value = token
        elif name in ("--config", "--run_dir"):
            value = root + value
        elif name in ("--listen", "--metrics_address"):
            value = "127.0.0.1:0"
        elif name == "--coordinator":
            value = coordinator
        out.append(f"{name}={value}" if value else arg)
    return out


def start(command, binary, log):
    return subprocess.Popen([binary] + command[1:], stdout=subprocess.DEVNULL, stderr=open(log, "w"))


def stopped_early(where, process, log):
    """Fails when `process` has exited (it should be past its flags, waiting on the job)."""
    if process.poll() is None:
        return False
    fail(f"{where}: exited {process.returncode} at once: {open(log).read().strip()[-400:]}")
    return True


def stop(process):
    # SIGKILL: a worker still registering (waiting for the job to form) does not look at
    # SIGTERM until it trains.
    if process.poll() is None:
        process.kill()
        process.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cloze", required=True)
    parser.add_argument("--entrypoint", required=True)
    parser.add_argument("--work", required=True, help="a folder with configs/job.textproto (the pods' /data)")
    parser.add_argument("manifests", nargs="+")
    args = parser.parse_args()
    token = os.path.join(args.work, "job_token")
    with open(token, "w") as f:
        f.write("a-test-token-of-the-kubernetes-test\n")
    os.chmod(token, 0o400)

    for manifest in args.manifests:
        jobs = jobs_of(manifest)
        if not jobs:
            continue
        coordinator_env = next(pod_env(j, 0) for j in jobs if pod_env(j, 0)["CLOZE_ROLE"] == "coordinator")
        sizes = {"worker": int(coordinator_env["CLOZE_WORKERS"]), "ps": int(coordinator_env.get("CLOZE_PS", "0"))}
        commands = {}  # role -> [(index, command)]
        for job in jobs:
            where = f"{os.path.basename(manifest)}: Job {job['metadata']['name']}"
            check_job_shape(where, job, sizes)
            for index in range(job["spec"]["completions"]):
                env = pod_env(job, index)
                got, want = printed_command(args.entrypoint, env), expected_command(env, index)
                if got != want:
                    fail(f"{where} index {index}: entrypoint.sh --print gave {got}, want {want}")
                commands.setdefault(env["CLOZE_ROLE"], []).append((index, got))
        check_on_cloze(os.path.basename(manifest), commands, sizes, args, token)
        print(f"{manifest}: {sum(len(c) for c in commands.values())} pods checked", flush=True)
    print("FAILURES:", len(FAILURES))
    return 1 if FAILURES else 0


def check_on_cloze(name, commands, sizes, args, token):
    """Runs the manifest's printed commands on the real binary against a real coordinator."""
    work = args.work
    (_, coordinator_command), = commands["coordinator"]
    port = free_port()
    command = localized(coordinator_command, work, token, "")
    command = [a if not a.startswith("--listen=") else f"--listen=127.0.0.1:{port}" for a in command]
    log = os.path.join(work, f"{name}-coordinator.log")
    coordinator = start(command, args.cloze, log)
    address, members = f"127.0.0.1:{port}", []
    try:
        time.sleep(0.5)
        for role in ("ps", "worker"):
            for index, printed in commands.get(role, [])[:-1]:  # all but the last: the job never forms
                member_log = os.path.join(work, f"{name}-{role}-{index}.log")
                members.append((f"{name}: {role} {index}", start(localized(printed, work, token, address), args.cloze,
                                                                  member_log), member_log, printed))
        time.sleep(4)  # long enough to refuse a flag or a config many times over
        for where, process, member_log, printed in members:
            if "--device=cuda" in printed and not os.path.exists("/dev/nvidia0"):
                # A CPU machine: the worker stops at its device, after its flags, before the coordinator.
                process.wait()
                text = open(member_log).read()
                if process.returncode == 0 or "--device=cuda" not in text:
                    fail(f"{where}: want a refusal of --device=cuda on a machine without GPU, got "
                         f"{process.returncode}: {text.strip()[-300:]}")
                continue
            stopped_early(where, process, member_log)
        # A rank the Jobs do not have: refused by the coordinator, naming the flag's value.
        for role in ("ps", "worker"):
            if not commands.get(role) or "--device=cuda" in commands[role][0][1]:
                continue
            index, printed = commands[role][0]
            wrong = [a if not a.startswith("--rank=") else f"--rank={sizes[role]}" for a in printed]
            try:
                run = subprocess.run([args.cloze] + localized(wrong, work, token, address)[1:], capture_output=True,
                                     text=True, timeout=60)
            except subprocess.TimeoutExpired:
                fail(f"{name}: {role} --rank={sizes[role]}: not refused within 60 s")
                continue
            if run.returncode != 2 or f"--rank={sizes[role]}" not in run.stderr or f"got {sizes[role]}" not in run.stderr:
                fail(f"{name}: {role} --rank={sizes[role]}: want exit 2 naming --rank={sizes[role]}, "
                     f"got {run.returncode}: {run.stderr.strip()[-300:]}")
        stopped_early(f"{name}: coordinator", coordinator, log)
    finally:
        for _, process, _, _ in members:
            stop(process)
        stop(coordinator)
    # The control: a misspelt flag fails at once, so "still running" above means "parsed".
    index, printed = commands["worker"][0]
    misspelt = [a.replace("--rank=", "--rnak=") for a in localized(printed, work, token, "127.0.0.1:1")]
    run = subprocess.run([args.cloze] + misspelt[1:], capture_output=True, text=True, timeout=60)
    if run.returncode == 0 or "rnak" not in run.stderr:
        fail(f"{name}: a misspelt flag was not refused: {run.returncode} {run.stderr.strip()[-300:]}")


if __name__ == "__main__":
    sys.exit(main())

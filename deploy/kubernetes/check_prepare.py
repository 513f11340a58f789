#!/usr/bin/python3
"""The split-preparation check of deploy/kubernetes/kubernetes_test.sh.

prepare.yaml's Indexed Job and prepare-merge.yaml's Job, run as Kubernetes would run them
(each pod's environment from the YAML, CLOZE_PART from its completion index) on the real
cloze, with the volume's /data moved to this test's folder: every index builds its own part,
the merge then writes the dataset, and it equals a one-machine `cloze prepare` with the
parts' flags (inspect's report). Also the shape: Indexed, --parts = completions =
parallelism = the merge's --parts, one --output, CLOZE_PART from the completion index.

Debian's python3 with python3-yaml (deploy/setup.sh). Prints FAIL lines; exits 1 on any.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

import yaml

FAILURES = []
INDEX_FIELD = "metadata.annotations['batch.kubernetes.io/job-completion-index']"


def fail(message):
    FAILURES.append(message)
    print("FAIL:", message, flush=True)


def only_job(manifest):
    with open(manifest) as f:
        (job,) = [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "Job"]
    return job, job["spec"]["template"]["spec"]["containers"][0]


def flag(args, name):
    values = [a.split("=", 1)[1] for a in args if a.startswith(name + "=")]
    return values[0] if len(values) == 1 else None


def pod_env(container, index):
    env = {}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        elif e.get("valueFrom") == {"fieldRef": {"fieldPath": INDEX_FIELD}}:
            env[e["name"]] = str(index)
        else:
            fail(f"env {e['name']}: a source this test does not know")
    return env


def run(command, env, what):
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"{what}: exit {done.returncode}: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cloze", required=True)
    parser.add_argument("--work", required=True, help="holds data/: the pods' /data")
    parser.add_argument("parts_manifest")
    parser.add_argument("merge_manifest")
    a = parser.parse_args()
    data = os.path.join(a.work, "data")
    bin_dir = os.path.join(a.work, "bin")
    os.makedirs(bin_dir, exist_ok=True)
    if not os.path.exists(os.path.join(bin_dir, "cloze")):
        os.symlink(a.cloze, os.path.join(bin_dir, "cloze"))
    path = bin_dir + ":" + os.environ["PATH"]

    parts_job, parts = only_job(a.parts_manifest)
    merge_job, merge = only_job(a.merge_manifest)
    spec = parts_job["spec"]
    if spec.get("completionMode") != "Indexed":
        fail("the parts Job must be Indexed (part = completion index)")
    if parts["command"] != ["/bin/sh", "-c"] or len(parts["args"]) != 1:
        fail("the parts Job runs one /bin/sh -c script")
        return
    script = parts["args"][0]
    cloze_args = shlex.split(script.split(";")[0])
    count = int(flag(cloze_args, "--parts") or 0)
    if not count == spec["completions"] == spec["parallelism"]:
        fail(f"--parts={count} must equal completions {spec['completions']} and parallelism {spec['parallelism']}")
    merge_args = merge["command"] + merge["args"]
    if merge_args[:3] != ["cloze", "prepare", "--merge"] or flag(merge_args, "--parts") != str(count):
        fail(f"the merge must be cloze prepare --merge --parts={count}: {merge_args}")
    output = flag(cloze_args, "--output")
    if flag(merge_args, "--output") != output:
        fail(f"the parts write {output}, the merge reads {flag(merge_args, '--output')}")
    if flag(cloze_args, "--part") != "$CLOZE_PART":
        fail("--part must come from CLOZE_PART")

    # Two shards here, not the manifest's many: every shard is synced when finished, and
    # dozens of syncs take seconds on a CI disk. Nothing else about the pods changes.
    script = re.sub(r"--shards=\d+", "--shards=2", script)
    cloze_args = shlex.split(script.split(";")[0])
    local_script = script.replace("/data/", data + "/")
    for index in range(spec["completions"]):
        env = dict(pod_env(parts, index), PATH=path)
        out = run(["/bin/sh", "-c", local_script], env, f"part pod {index}")
        if f"prepared part {index} of {count} " not in out:
            fail(f"pod {index} did not build part {index}: {out[:300]}")
    run([a.cloze] + [x.replace("/data/", data + "/") for x in merge_args[1:]], dict(os.environ), "merge pod")

    one = os.path.join(a.work, "one_machine")
    single = [x.replace("/data/", data + "/") for x in cloze_args[1:]
              if not x.startswith(("--part=", "--parts=", "--output=", "--threads="))]
    run([a.cloze] + single + ["--output=" + one, "--threads=2"], dict(os.environ), "one-machine prepare")
    merged_dir = output.replace("/data/", data + "/")
    reports = [run([a.cloze, "inspect", d, "--examples=3", "--verify"], dict(os.environ), "inspect " + d)
               for d in (one, merged_dir)]
    reports = [r.split("\n", 1)[-1] for r in reports]
    if not reports[0] or reports[0] != reports[1]:
        fail("the merged dataset differs from the one-machine prepare's (inspect)")
    print(f"prepare.yaml: {count} part pods and the merge pod equal a one-machine prepare", flush=True)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())

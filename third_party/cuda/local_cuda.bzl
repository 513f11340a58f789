"""Finds the CUDA toolkit and exposes it as @local_cuda.

@local_cuda//:defs.bzl says whether a toolkit was found (CUDA_FOUND) and where nvcc is.
@local_cuda//:cudart, :cublas, :cublaslt, :nccl, :cudnn, :headers are cc_library targets;
without a toolkit they are empty, so BUILD files load the same either way and only
targets wrapped in if_cuda() (third_party/cuda/cuda.bzl) depend on them for real.

Looks at $CUDA_PATH, then /usr/local/cuda. With CLOZE_REQUIRE_CUDA=1 in the
repository environment (set by --config=cuda) a missing toolkit is an error.
"""

_LIBS = {
    # cudart statically, so binaries built here run on a GPU machine whatever its toolkit.
    "cudart": ["-lcudart_static", "-ldl", "-lrt", "-lpthread"],
    "cublas": ["-lcublas"],
    "cublaslt": ["-lcublasLt"],
    "nccl": ["-lnccl"],
    "cudnn": ["-lcudnn"],
}

def _local_cuda_impl(ctx):
    root = ctx.os.environ.get("CUDA_PATH", "/usr/local/cuda")
    nvcc = ctx.path(root + "/bin/nvcc")
    found = nvcc.exists
    if not found and ctx.os.environ.get("CLOZE_REQUIRE_CUDA", "") == "1":
        fail("--config=cuda: no CUDA toolkit at %s (set CUDA_PATH)" % root)

    ctx.file("WORKSPACE", 'workspace(name = "local_cuda")\n')
    ctx.file("defs.bzl", "CUDA_FOUND = %s\nNVCC = %s\nCUDA_ROOT = %s\n" % (
        found,
        repr(str(nvcc) if found else ""),
        repr(root if found else ""),
    ))
    build = ['package(default_visibility = ["//visibility:public"])', ""]
    if found:
        ctx.symlink(root + "/include", "include")
        build.append('cc_library(name = "headers", hdrs = glob(["include/**/*.h", "include/**/*.hpp", "include/**/*.cuh"]), includes = ["include"])')
    else:
        build.append('cc_library(name = "headers")')
    lib_dirs = [root + "/lib64", root + "/lib"]
    for name, flags in _LIBS.items():
        if found:
            linkopts = []
            for d in lib_dirs:
                linkopts += ["-L" + d, "-Wl,-rpath," + d]
            linkopts += flags
            build.append('cc_library(name = "%s", deps = [":headers"], linkopts = %s)' % (name, repr(linkopts)))
        else:
            build.append('cc_library(name = "%s")' % name)
    ctx.file("BUILD", "\n".join(build) + "\n")

local_cuda = repository_rule(
    implementation = _local_cuda_impl,
    environ = ["CUDA_PATH", "CLOZE_REQUIRE_CUDA"],
    local = True,
)

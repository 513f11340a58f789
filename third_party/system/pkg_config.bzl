"""A repository rule that turns pkg-config modules of the host into cc_library targets.

Almost every Debian -dev package cloze needs ships a .pc file, so one rule covers them all:
`@system//:grpc`, `@system//:rocksdb`, ... (oneDNN, which ships none, is _PLAIN_LIBRARIES). Each target carries the module's link flags and
preprocessor defines. Headers under /usr/include need nothing more (they are the toolchain's
system includes); include folders elsewhere (OpenMPI's) are symlinked into the repository so
Bazel's header check accepts them. Library folders outside the linker's default path get an
rpath, so that for instance the OpenMP build of OpenBLAS is the one loaded at run time.
"""

# name -> (pkg-config modules, extra PKG_CONFIG_PATH or "")
_LIBRARIES = {
    "absl": (["absl_status", "absl_statusor", "absl_strings", "absl_str_format", "absl_flags", "absl_flags_parse", "absl_synchronization", "absl_time", "absl_hash", "absl_raw_hash_set", "absl_random_random"], ""),
    "protobuf": (["protobuf"], ""),
    "grpc": (["grpc++", "grpc"], ""),
    "rocksdb": (["rocksdb"], ""),
    "crypto": (["libcrypto"], ""),
    "prometheus": (["prometheus-cpp-pull", "prometheus-cpp-core"], ""),
    "mpi": (["ompi-c"], ""),
    "gtest": (["gtest", "gmock"], ""),
    "gtest_main": (["gtest_main"], ""),
    # The OpenMP build shares OpenMP's thread pool with our own parallel loops, so a BLAS
    # call made inside an OpenMP region does not oversubscribe the cores.
    "openblas": (["openblas"], "/usr/lib/x86_64-linux-gnu/openblas-openmp/pkgconfig"),
    "sentencepiece": (["sentencepiece"], ""),
    "nlohmann_json": (["nlohmann_json"], ""),
    # Unicode properties and normalisation for the tokenizers (data/).
    "icu": (["icu-uc"], ""),
    # .xz files (the UD treebank's train split, SQuAD dev) read without unpacking (tasks/).
    "lzma": (["liblzma"], ""),
    # SHA-256 of tokenizer files and shards (OpenSSL, already a dependency of gRPC).
}

# Debian packages without a .pc file: name -> (a header that must exist, link flags). Their
# headers are under /usr/include (the toolchain's system includes).
_PLAIN_LIBRARIES = {
    # oneDNN (libdnnl-dev): bf16 matrix products on CPUs with AVX512-BF16 (kernels/cpu/bf16_gemm.h).
    # Debian builds it on OpenMP, the same libgomp pool as the ops and OpenBLAS.
    "dnnl": ("/usr/include/oneapi/dnnl/dnnl.hpp", ["-ldnnl"]),
}

_DEFAULT_LIB_DIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib", "/lib", "/lib/x86_64-linux-gnu"]

def _pkg_config(ctx, modules, extra_path, what):
    env = {}
    if extra_path:
        env["PKG_CONFIG_PATH"] = extra_path
    result = ctx.execute(["pkg-config", what] + modules, environment = env)
    if result.return_code != 0:
        fail("pkg-config %s %s failed (is deploy/setup.sh done?): %s" % (what, " ".join(modules), result.stderr))
    return result.stdout.strip().split(" ")

def _is_system_include(path):
    return path == "/usr/include" or path.startswith("/usr/include/")

def _system_libraries_impl(ctx):
    build = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, (modules, extra_path) in _LIBRARIES.items():
        defines = []
        includes = []
        for flag in _pkg_config(ctx, modules, extra_path, "--cflags"):
            if flag.startswith("-D"):
                defines.append(flag[2:])
            elif flag.startswith("-I"):
                folder = flag[2:].rstrip("/")
                if _is_system_include(folder):
                    continue
                link = "%s/include_%d" % (name, len(includes))
                ctx.symlink(folder, link)
                includes.append(link)
        linkopts = []
        for flag in _pkg_config(ctx, modules, extra_path, "--libs"):
            if not flag:
                continue
            linkopts.append(flag)
            if flag.startswith("-L") and flag[2:].rstrip("/") not in _DEFAULT_LIB_DIRS:
                linkopts.append("-Wl,-rpath," + flag[2:].rstrip("/"))
        hdrs = ["glob([%s])" % ", ".join(['"%s/**"' % i for i in includes])] if includes else []
        build.append("cc_library(")
        build.append('    name = "%s",' % name)
        if hdrs:
            build.append("    hdrs = %s," % hdrs[0])
            build.append("    includes = %s," % repr(includes))
        build.append("    defines = %s," % repr(defines))
        build.append("    linkopts = %s," % repr(linkopts))
        build.append(")")
        build.append("")
    for name, (header, linkopts) in _PLAIN_LIBRARIES.items():
        if not ctx.path(header).exists:
            fail("%s not found (is deploy/setup.sh done?): the @system//:%s library needs it" % (header, name))
        build.append("cc_library(")
        build.append('    name = "%s",' % name)
        build.append("    linkopts = %s," % repr(linkopts))
        build.append(")")
        build.append("")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", "\n".join(build))

system_libraries = repository_rule(
    implementation = _system_libraries_impl,
    environ = ["PKG_CONFIG_PATH"],
    local = True,
)

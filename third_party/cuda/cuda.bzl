"""cuda_library: .cu sources compiled by nvcc into a target that cc_* rules can depend on.

It behaves like cc_library: include paths, defines and headers of `deps` reach nvcc, and
the result carries CcInfo (headers plus a static archive of the objects) to dependents.
CUDA code is built when a toolkit is found and --config=cpu is not given; otherwise a
cuda_library provides only its headers, and if_cuda() lets BUILD files choose sources and
dependencies accordingly.
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")
load("@local_cuda//:defs.bzl", "CUDA_FOUND", "NVCC")

# Ampere (A100) and Hopper (H100/H200, with its arch-specific wgmma/TMA instructions).
_DEFAULT_GENCODE = [
    "-gencode=arch=compute_80,code=sm_80",
    "-gencode=arch=compute_90a,code=sm_90a",
]

def if_cuda(if_true, if_false = []):
    """Selects `if_true` when CUDA code is being built, `if_false` otherwise."""
    if not CUDA_FOUND:
        return if_false
    return select({
        "//third_party/cuda:cuda_disabled": if_false,
        "//conditions:default": if_true,
    })

def _include_flags(compilation_context):
    flags = []
    for d in compilation_context.includes.to_list():
        flags += ["-I", d]
    for d in compilation_context.quote_includes.to_list():
        flags += ["-I", d]
    for d in compilation_context.system_includes.to_list():
        flags += ["-isystem", d]
    for d in compilation_context.defines.to_list():
        flags.append("-D" + d)
    return flags

def _cuda_library_impl(ctx):
    dep_infos = [d[CcInfo] for d in ctx.attr.deps]
    own_headers = cc_common.create_compilation_context(headers = depset(ctx.files.hdrs))
    if not ctx.attr.enabled or not ctx.files.srcs:
        return [cc_common.merge_cc_infos(
            direct_cc_infos = [CcInfo(compilation_context = own_headers)],
            cc_infos = dep_infos,
        )]

    cc_toolchain = find_cpp_toolchain(ctx)
    feature_configuration = cc_common.configure_features(
        ctx = ctx,
        cc_toolchain = cc_toolchain,
        requested_features = ctx.features,
        unsupported_features = ctx.disabled_features,
    )
    deps_context = cc_common.merge_cc_infos(cc_infos = dep_infos).compilation_context
    common = [
        "-ccbin", cc_toolchain.compiler_executable,
        "-std=c++20", "-O3", "-lineinfo",
        "-Xcompiler", "-fPIC",
        "-I", ".", "-I", ctx.bin_dir.path, "-I", ctx.genfiles_dir.path,
    ] + _DEFAULT_GENCODE + _include_flags(deps_context) + ctx.attr.copts

    objects = []
    for src in ctx.files.srcs:
        obj = ctx.actions.declare_file("_cuda_objs/%s/%s.o" % (ctx.label.name, src.basename))
        ctx.actions.run(
            executable = NVCC,
            arguments = common + ["-c", src.path, "-o", obj.path],
            inputs = depset([src] + ctx.files.hdrs, transitive = [deps_context.headers]),
            outputs = [obj],
            mnemonic = "NvccCompile",
            progress_message = "nvcc %s" % src.short_path,
            use_default_shell_env = True,
        )
        objects.append(obj)

    archive = ctx.actions.declare_file("lib%s_cuda.a" % ctx.label.name)
    ctx.actions.run(
        executable = cc_toolchain.ar_executable,
        arguments = ["rcsD", archive.path] + [o.path for o in objects],
        inputs = objects,
        outputs = [archive],
        mnemonic = "CudaArchive",
        use_default_shell_env = True,
    )
    library = cc_common.create_library_to_link(
        actions = ctx.actions,
        feature_configuration = feature_configuration,
        cc_toolchain = cc_toolchain,
        static_library = archive,
        pic_static_library = archive,
        alwayslink = ctx.attr.alwayslink,
    )
    linker_input = cc_common.create_linker_input(
        owner = ctx.label,
        libraries = depset([library]),
        user_link_flags = depset(ctx.attr.linkopts),
    )
    own = CcInfo(
        compilation_context = own_headers,
        linking_context = cc_common.create_linking_context(linker_inputs = depset([linker_input])),
    )
    return [
        cc_common.merge_cc_infos(direct_cc_infos = [own], cc_infos = dep_infos),
        DefaultInfo(files = depset([archive])),
    ]

_cuda_library = rule(
    implementation = _cuda_library_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = [".cu"]),
        "hdrs": attr.label_list(allow_files = [".h", ".cuh"]),
        "deps": attr.label_list(providers = [CcInfo]),
        "copts": attr.string_list(),
        "linkopts": attr.string_list(),
        "alwayslink": attr.bool(default = False),
        "enabled": attr.bool(default = True),
        "_cc_toolchain": attr.label(default = Label("@bazel_tools//tools/cpp:current_cc_toolchain")),
    },
    fragments = ["cpp"],
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
)

def cuda_library(name, srcs = [], hdrs = [], deps = [], **kwargs):
    """Like cc_library for .cu files; links the CUDA runtime when CUDA is built."""
    _cuda_library(
        name = name,
        srcs = srcs,
        hdrs = hdrs,
        deps = deps + if_cuda(["@local_cuda//:cudart"]),
        enabled = if_cuda(True, False),
        **kwargs
    )

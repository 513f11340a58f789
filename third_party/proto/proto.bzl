"""C++ (and gRPC) code from .proto files with Debian's protoc and grpc_cpp_plugin.

Bazel's native proto rules would need @com_google_protobuf (a download); a genrule
around the system protoc keeps the build offline and matches the system runtime
library exactly, which the generated code requires.
"""

def cc_proto(name, srcs, deps = [], grpc = False, visibility = None):
    """Declares `name`, a cc_library holding the generated code for `srcs`.

    Args:
      name: the cc_library's name.
      srcs: .proto files of this package; imports are written from the workspace root
        ("proto/model_config.proto").
      deps: other cc_proto targets whose .proto files `srcs` import.
      grpc: also generate gRPC service stubs (.grpc.pb.h/.cc).
      visibility: as for cc_library.
    """
    stems = [s[:-len(".proto")] for s in srcs]
    outs = [s + ".pb.h" for s in stems] + [s + ".pb.cc" for s in stems]
    plugin = ""
    if grpc:
        outs += [s + ".grpc.pb.h" for s in stems] + [s + ".grpc.pb.cc" for s in stems]
        plugin = "--grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin"
    native.genrule(
        name = name + "_generate",
        srcs = srcs + [d + "_sources" for d in deps],
        outs = outs,
        cmd = "/usr/bin/protoc -I. --cpp_out=$(GENDIR) %s %s" % (
            plugin,
            " ".join(["$(location %s)" % s for s in srcs]),
        ),
    )
    native.filegroup(
        name = name + "_sources",
        srcs = srcs + [d + "_sources" for d in deps],
        visibility = visibility,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["@system//:protobuf"] + (["@system//:grpc"] if grpc else []),
        visibility = visibility,
    )

"""One stanza for every real-process test (Python or shell).

real_process_test(name) runs NAME.py through run_py_test.sh, or `src` (a
.sh script) directly, with the harness and everything it starts in the
runfiles. The defaults are those of most of these tests: several processes
on localhost ("medium") that wait on short intervals, so "exclusive"
rather than competing with other tests for the two CI cores.
"""

def real_process_test(
        name,
        src = None,
        data = [],
        args = [],
        size = "medium",
        timeout = None,
        tags = ["exclusive"],
        **kwargs):
    src = src or name + ".py"
    if src.endswith(".py"):
        srcs = ["//tests/lib:run_py_test.sh"]
        args = ["$(location %s)" % src] + args
    else:
        srcs = [src]
    native.sh_test(
        name = name,
        size = size,
        timeout = timeout,
        srcs = srcs,
        args = args,
        data = depset([src, "//tests/lib:harness"] + data).to_list(),
        tags = tags,
        **kwargs
    )

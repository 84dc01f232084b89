"""pytest_test: a py_test that runs its sources with pytest."""

def pytest_test(name, srcs, deps = [], data = [], args = [], **kwargs):
    native.py_test(
        name = name,
        srcs = srcs + ["//tools:pytest_main.py"],
        main = "//tools:pytest_main.py",
        args = ["$(location %s)" % src for src in srcs] + args,
        deps = deps,
        data = data,
        **kwargs
    )

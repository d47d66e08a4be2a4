from dupfind.suppress import hotspot_lines


def test_hotspot_lines_are_the_marked_lines_once_each() -> None:
    source = (
        b"import os\n"
        b"def fast(xs):  # dupfind: hotspot\n"
        b"    return xs\n"
        b"\n"
        b"#dupfind:hotspot  # dupfind: hotspot (twice on one line)\n"
        b"def other():\n"
        b"    pass  # dupfind: hotspots is not the marker\n"
    )
    assert hotspot_lines(source) == (2, 5)


def test_a_file_without_markers_has_no_hotspot_lines() -> None:
    assert hotspot_lines(b"def f():\n    return 1  # dupfind: ignore\n") == ()
    assert hotspot_lines(b"") == ()

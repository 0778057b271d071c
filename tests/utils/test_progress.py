"""seg_plugins.utils.progress: the live bar on a terminal, plain lines at
about every tenth of the work or every ``seconds`` elsewhere."""
import io
import re
import time

from seg_plugins.utils.progress import Progress

LINE = re.compile(r'^(\d+)/(\d+), (\d+)%, [\d.]+ chips/s, elapsed: '
                  r'\d+:\d\d:\d\d, ETA: \d+:\d\d:\d\d$')


def lines(out: io.StringIO) -> list:
    return out.getvalue().splitlines()


def test_a_line_each_tenth():
    out = io.StringIO()
    with Progress(2160, 'chips', file=out) as bar:
        for _ in range(2160):
            bar.update()
    got = [LINE.match(line) for line in lines(out)]
    assert all(got), lines(out)
    assert [int(m[1]) for m in got] == [216 * k for k in range(1, 11)]
    assert [int(m[3]) for m in got] == list(range(10, 101, 10))
    assert '\r' not in out.getvalue()


def test_updates_of_several_steps_and_short_loops():
    """A jump over several tenths gives one line; a loop of fewer than ten
    steps a line per step."""
    out = io.StringIO()
    bar = Progress(100, 'chips', file=out)
    bar.update(35)
    bar.update(5)
    bar.update(60)
    assert [line.split(',')[0] for line in lines(out)] == [
        '35/100', '40/100', '100/100']
    out = io.StringIO()
    bar = Progress(3, 'chips', file=out)
    for _ in range(3):
        bar.update()
    assert [line.split(',')[0] for line in lines(out)] == ['1/3', '2/3',
                                                           '3/3']


def test_a_line_every_seconds_between_tenths():
    out = io.StringIO()
    bar = Progress(1000, 'chips', file=out, seconds=0.05)
    bar.update()
    assert not lines(out)
    time.sleep(0.06)
    bar.update()
    assert lines(out)[0].startswith('2/1000, 0%, ')
    bar.update()  # the clock starts again at each line
    assert len(lines(out)) == 1


def test_close_writes_where_a_loop_stopped():
    out = io.StringIO()
    bar = Progress(100, 'chips', file=out)
    bar.update(37)
    bar.close()
    bar.close()
    assert [line.split(',')[0] for line in lines(out)] == ['37/100']
    out = io.StringIO()
    bar = Progress(0, 'chips', file=out)  # total unknown
    bar.update(4)
    bar.close()
    assert re.fullmatch(r'4, [\d.]+ chips/s, elapsed: 0:00:00\n',
                        out.getvalue())


def test_live_bar_when_asked_or_on_a_terminal():
    """``live=True`` (what a terminal gets): mmengine's bar, redrawn with
    ``\\r`` at each step, ended by close()."""
    out = io.StringIO()
    assert not Progress(5, file=out).live  # a StringIO is no terminal
    bar = Progress(5, file=out, live=True)
    for _ in range(5):
        bar.update()
    bar.close()
    text = out.getvalue()
    assert text.count('\r[') == 5 and text.endswith('\n')
    assert re.search(r'\r\[>+\] 5/5, ', text)

"""Interleaved timing rounds for the bench scripts: every job runs once per round, so a change
in the machine's load hits every job alike; medians of wall and CPU (user + sys) time."""
import resource, statistics, subprocess, time


def run(cmd):
    """(wall s, CPU s) of one run of `cmd`, output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def medians(runs):
    """Median wall and CPU time of a list of `run` results."""
    return statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)


def table(res, ref):
    """Prints each job's medians and its ratio to job `ref`; returns the medians by job."""
    med = {k: medians(v) for k, v in res.items()}
    rw, rc = med[ref]
    print(f"{'job':<20} {'runs':>4} {'wall s':>8} {'cpu s':>8} {'wall/' + ref:>11} {'cpu/' + ref:>10}")
    for name, (w, c) in med.items():
        print(f"{name:<20} {len(res[name]):>4} {w:>8.3f} {c:>8.3f} {w / rw:>10.3f}x {c / rc:>9.3f}x")
    return med

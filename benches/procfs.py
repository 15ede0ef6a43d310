"""Process-tree accounting from /proc: CPU time and resident memory of a server and
every process it forked (nginx's master and workers; a process's own figures already
sum its threads)."""

import os

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def process_tree(root):
    """`root` and every descendant process (by ppid), from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo and len(tree) < 10_000:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_split(root):
    """(user, system) CPU seconds of the whole tree (each /proc/PID/stat sums its threads)."""
    user = system = 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11])  # utime, field 14
        system += int(fields[12])  # stime, field 15
    return user / CLK_TCK, system / CLK_TCK


def cpu_seconds(root):
    """utime + stime of the whole tree."""
    return sum(cpu_split(root))


def rss_kib(root):
    """Resident set of the whole tree, KiB."""
    total = 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_KIB
        except OSError:
            continue
    return total

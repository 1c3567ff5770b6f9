"""What the conformance tests of the fakes (t390*) share: the key walk.

A fake's answer conforms to a recorded object when every key of the
recorded object, in nested objects too and in the first item of lists, is
in the answer. A test loads the recorded object and the fake's answer its
own way, then asks

    missing(want, got, excused=None, name=None, **how)

for the paths of the keys the answer lacks (".a.b[0].c"). excused maps a
regex to a reason: a path a regex matches (re.search) is said, with its
reason, but is not returned. With a name, every path found is said as
"NAME: the fake lacks PATH"; without, only the excused ones are, and the
test reports the rest its own way.

how, all optional, for answers shaped other than one to one:
    sep      what goes before a key in a path (".")
    each     what stands for a list's first item in a path ("[0]")
    like     like(where, item): the answer's item held to a recorded list's
             first item is the first one that is like it (==); a key that
             is a string names the item in the path ("[Ready]")
    skip     keys neither looked for nor walked into
    empty_is_map  an empty object in the answer is a map with no data:
             nothing below it is looked for
Standard library only.
"""
import re


def walk(want, got, where="", sep=".", each="[0]", like=None, skip=(),
         empty_is_map=False):
    """Yield the path of every key of want that got lacks."""
    how = dict(sep=sep, each=each, like=like, skip=skip,
               empty_is_map=empty_is_map)
    if isinstance(want, list) and want and isinstance(got, list) and got:
        if like is None:
            yield from walk(want[0], got[0], where + each, **how)
        else:
            key = like(where, want[0])
            same = [x for x in got if like(where, x) == key]
            if not same:
                yield "%s[] like %s" % (where, key)
            else:
                yield from walk(want[0], same[0], where + (
                    "[%s]" % key if isinstance(key, str) else each), **how)
    if isinstance(want, dict) and isinstance(got, dict):
        for k in want:
            if k in skip:
                continue
            if k not in got:
                yield where + sep + k
            elif not (empty_is_map and isinstance(got[k], dict) and not got[k]):
                yield from walk(want[k], got[k], where + sep + k, **how)


def missing(want, got, excused=None, name=None, **how):
    """The paths of the keys of want that got lacks and no regex of excused
    matches; says the excused ones (and, with a name, all)."""
    out = []
    for key in walk(want, got, **how):
        why = [r for p, r in (excused or {}).items() if re.search(p, key)]
        if why or name is not None:
            print("%sthe fake lacks %s%s" % ("" if name is None else name + ": ", key,
                  " (excused: %s)" % why[0] if why else ""))
        if not why:
            out.append(key)
    return out

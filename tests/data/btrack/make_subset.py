#!/usr/bin/env python3
"""Cuts btrack_examples_0.4.3_subset.h5 out of btrack-examples' examples/tracks.h5
(https://github.com/lowe-lab-ucl/btrack-examples, MIT licence, written by btrack 0.4.3).

Keeps the first twelve tracks that hold a dummy observation, their ancestors and one complete
division (parent and both children), with their objects and dummies copied value for value and the references renumbered;
the layout (datasets, dtypes, the `version` attribute) is that of the original file.
Usage: /usr/bin/python3 make_subset.py tracks.h5 btrack_examples_0.4.3_subset.h5
"""
import sys

import h5py
import numpy as np

src, dst = sys.argv[1], sys.argv[2]
with h5py.File(src, "r") as f:
    g = f["tracks/obj_type_1"]
    coords = f["objects/obj_type_1/coords"][:]
    labels = f["objects/obj_type_1/labels"][:]
    refs, tmap, lbepr, fates, dummies = (g[k][:] for k in ("tracks", "map", "LBEPR", "fates", "dummies"))
    version = g.attrs["version"]

    with_dummy = [k for k, (s, e) in enumerate(tmap) if (refs[s:e] < 0).any()]
    # One division: the first parent whose two children both exist, smallest total length.
    families = []
    for k, row in enumerate(lbepr):
        kids = [j for j, r in enumerate(lbepr) if r[3] == row[0] and r[0] != row[0]]
        if len(kids) == 2:
            families.append((sum(tmap[j][1] - tmap[j][0] for j in [k] + kids), [k] + kids))
    keep = set(with_dummy[:12]) | set(min(families)[1])
    index = {int(r[0]): k for k, r in enumerate(lbepr)}
    todo = list(keep)
    while todo:   # every parent too, so that the lineage is complete
        row = lbepr[todo.pop()]
        if row[3] != row[0] and row[3] in index and index[row[3]] not in keep:
            keep.add(index[row[3]])
            todo.append(index[row[3]])
    keep = sorted(keep)

    obj_rows = sorted({int(r) for k in keep for r in refs[tmap[k][0]:tmap[k][1]] if r >= 0})
    new_obj = {r: i for i, r in enumerate(obj_rows)}
    dum_rows = sorted({int(-r - 1) for k in keep for r in refs[tmap[k][0]:tmap[k][1]] if r < 0})
    new_dum = {r: i for i, r in enumerate(dum_rows)}

    new_refs, new_map = [], []
    for k in keep:
        s = len(new_refs)
        for r in refs[tmap[k][0]:tmap[k][1]]:
            new_refs.append(new_obj[int(r)] if r >= 0 else -(new_dum[int(-r - 1)] + 1))
        new_map.append([s, len(new_refs)])

    sub = coords[obj_rows]
    T = int(sub[:, 0].max()) + 1
    fmap = np.zeros((T, 2), dtype=np.uint32)   # btrack 0.4.3's (buggy) per-frame map, as it writes it
    for i, o in enumerate(sub):
        fmap[int(o[0]), 1] = max(fmap[int(o[0]), 1], i)
    fmap[1:, 0] = fmap[:-1, 1]

    with h5py.File(dst, "w") as o:
        og = o.create_group("objects/obj_type_1")
        og.create_dataset("coords", data=sub, dtype="float32")
        og.create_dataset("labels", data=labels[obj_rows], dtype="float32")
        og.create_dataset("map", data=fmap, dtype="uint32")
        og.create_group("properties")
        tg = o.create_group("tracks/obj_type_1")
        tg.create_dataset("tracks", data=np.array(new_refs, dtype=np.int32), dtype="int32")
        tg.create_dataset("map", data=np.array(new_map, dtype=np.uint32), dtype="uint32")
        tg.attrs["version"] = version
        tg.create_dataset("dummies", data=dummies[dum_rows], dtype="float32")
        tg.create_dataset("LBEPR", data=lbepr[keep], dtype="int32")
        tg.create_dataset("fates", data=fates[keep], dtype="int32")
    print(f"{len(keep)} tracks, {len(obj_rows)} objects, {len(dum_rows)} dummies, frames 0..{T - 1}")

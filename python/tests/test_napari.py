"""`taupe export napari` on a finished run: every layer loads, the per-track probabilities equal
`taupe predict`'s, the tables join on (movie, track id) with no unmatched rows, and the per-track
perturbation columns are the per-trajectory tables' means.

Slow (a whole `tiny` run with the movie kept): ctest label "slow". Needs numpy and tifffile;
napari itself is not needed (the loader returns napari layer-data tuples)."""
import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taupe  # noqa: E402

BIN = os.environ.get("TAUPE_BINARY", "taupe")


def run(*args):
    subprocess.run([BIN, "-q", *args], check=True, stdout=subprocess.DEVNULL)


def load_module(path):
    spec = importlib.util.spec_from_file_location("load_napari", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class NapariExport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="taupe_napari_")
        d = cls.tmp.name
        cls.run_dir = os.path.join(d, "run")
        cls.out = os.path.join(d, "napari")
        run("run", "--preset", "tiny", "--set", "simulate.movies=true", "--out", cls.run_dir)
        run("export", "napari", cls.run_dir, "--out", cls.out)
        run("predict", "-m", os.path.join(cls.run_dir, "model"), "--encodings",
            os.path.join(cls.run_dir, "encodings.h5"), "-o", os.path.join(d, "predict.csv"))
        cls.loader = load_module(os.path.join(cls.out, "load_napari.py"))
        cls.predict = taupe.read_csv(os.path.join(d, "predict.csv"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def movie(self):
        names = self.loader.movies(self.out)
        self.assertEqual(names, ["fov_000"])
        return names[0]

    def test_every_layer_loads_with_its_calibration(self):
        movie = self.movie()
        got = self.loader.layers(self.out, movie)
        kinds = [k for _, _, k in got]
        self.assertEqual(kinds, ["image", "image", "labels", "tracks"])
        (gfp, gk, _), (rfp, _, _), (labels, _, _), (tracks, tk, _) = got
        mv = taupe.read_movie(os.path.join(self.run_dir, "data", movie, "movie.h5"))
        images = np.asarray(mv.images)  # (T, C, H, W)
        np.testing.assert_array_equal(gfp, images[:, 0])
        np.testing.assert_array_equal(rfp, images[:, 1])
        self.assertEqual(labels.shape, gfp.shape)
        frame_s = float(mv.attrs["frame_interval_min"]) * 60.0
        um = float(mv.attrs["pixel_size_um"])
        self.assertEqual(gk["scale"], (frame_s, um, um))
        self.assertEqual(tk["scale"], (frame_s, um, um))
        self.assertEqual(tracks.shape[1], 4)
        for key in ("p_mitosis", "p_apoptosis", "p_synthetic", "held_out_by", "delta_p_apoptosis_switch",
                    "nuclear_pc_response", "fate"):
            self.assertIn(key, tk["features"])
            self.assertEqual(len(tk["features"][key]), len(tracks))

    def test_labels_are_track_ids_where_the_tracks_are(self):
        movie = self.movie()
        got = self.loader.layers(self.out, movie)
        labels = got[2][0]
        t = taupe.read_tracks(os.path.join(self.run_dir, "data", movie, "tracks.h5"))
        pts = t.points
        ids = set(int(i) for i in t.tracks["id"])
        self.assertTrue(set(np.unique(labels).tolist()) <= ids | {0})
        inside = pts["label"] > 0
        # The simulated field is periodic: a centroid within half a pixel of the far edge wraps.
        yy = np.rint(pts["y"][inside]).astype(int) % labels.shape[1]
        xx = np.rint(pts["x"][inside]).astype(int) % labels.shape[2]
        at = labels[pts["t"][inside].astype(int), yy, xx]
        # The centroid of a (convex) simulated nucleus lies inside its own mask.
        self.assertGreaterEqual(np.mean(at == pts["track_id"][inside]), 0.98)

    def test_probabilities_equal_predict_and_tables_join(self):
        movie = self.movie()
        per_track = self.loader.per_track(self.out, movie)
        p = self.predict
        mean = (p["model"] == "mean") & (p["rotation"] == 0)
        expected = {}
        for i in np.flatnonzero(mean):
            expected.setdefault((str(p["movie"][i]), int(p["track_id"][i])), {})[str(p["class"][i])] = p["probability"][i]
        exported = {(movie, tid): v for tid, v in per_track.items() if np.isfinite(v["p_apoptosis"])}
        self.assertEqual(set(exported), set(expected))  # no unmatched rows on either side
        for key, want in expected.items():
            for cls in ("mitosis", "apoptosis", "synthetic"):
                self.assertAlmostEqual(exported[key]["p_" + cls], want[cls], places=12, msg=str(key))

    def test_perturbation_columns_are_the_trajectory_tables_means(self):
        movie = self.movie()
        per_track = self.loader.per_track(self.out, movie)
        for name, column, feature in (("switch_neighbours_trajectories.csv", "delta_p_apoptosis",
                                       "delta_p_apoptosis_switch"),
                                      ("pc_shift_nuclear_trajectories.csv", "slope_apoptosis_per_sd_shrinkage",
                                       "nuclear_pc_response")):
            path = os.path.join(self.run_dir, "perturb", name)
            if name.startswith("pc_shift") and not os.path.exists(path):
                # No nuclear-size PC with a realistic range of two points: nothing was measured.
                self.assertTrue(all(np.isnan(v[feature]) for v in per_track.values()), name)
                continue
            t = taupe.read_csv(path)
            rows = np.flatnonzero((t["rotation"] == 0) & (t["movie"] == movie))
            self.assertGreater(len(rows), 0, name)
            sums = {}
            for i in rows:
                sums.setdefault(int(t["track_id"][i]), []).append(t[column][i])
            for tid, values in sums.items():
                self.assertAlmostEqual(per_track[tid][feature], float(np.mean(values)), places=9, msg=name)
            measured = {tid for tid, v in per_track.items() if np.isfinite(v[feature])}
            self.assertEqual(measured, set(sums), name)


if __name__ == "__main__":
    unittest.main()

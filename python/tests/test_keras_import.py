"""`taupe import keras-weights` maps the reference implementation's weights onto taupe's
architecture: `taupe predict --glimpses` on the imported model directory gives the probabilities
of an independent float64 forward in Keras semantics (keras_reference.py) from the same arrays
— encoder, PCA and TCN, classes reordered — and the decoder's tensors are the fixture's under the
documented layout rules. Runs when h5py and numpy import (ctest `python.keras_import`)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taupe  # noqa: E402
import keras_reference as ref  # noqa: E402

BIN = os.environ.get("TAUPE_BINARY", "taupe")
TAUPE_CLASSES = ("mitosis", "apoptosis", "synthetic")


def run(*args, check=True):
    return subprocess.run([BIN, "-q", "--threads", "1", *args], check=check, capture_output=True, text=True)


def trim(z, cutoff, max_len=128):
    """taupe's (and the reference's) TCN input: frames 0..cutoff, the last max_len, pre-padded with 0."""
    last = min(max(int(cutoff), 0), len(z) - 1)
    kept = min(last + 1, max_len)
    x = np.zeros((max_len, z.shape[1]))
    x[max_len - kept:] = z[last + 1 - kept:last + 1]
    return x


class KerasImport(unittest.TestCase):
    @classmethod
    def p(cls, *parts):
        return os.path.join(cls.tmp.name, *parts)

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="taupe_keras_")
        cls.params = ref.write_reference_weights(cls.p("reference"), np.random.default_rng(20261207))
        run("simulate", "--preset", "tiny", "--out", cls.p("sim"))
        run("import", "keras-weights", cls.p("reference"), "-m", cls.p("model"), "--patches", cls.p("sim", "patches.h5"))
        run("predict", "-m", cls.p("model"), "--glimpses", cls.p("sim", "glimpses.h5"), "-o", cls.p("predict.csv"))
        cls.table = taupe.read_csv(cls.p("predict.csv"))
        cls.glimpses = taupe.read_glimpses(cls.p("sim", "glimpses.h5"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def reference_probabilities(self, i):
        tr = self.glimpses.trajectory(i)
        z = ref.encoder_forward(self.params["encoder"], np.transpose(tr["images"], (0, 2, 3, 1)))
        comp, mean = self.params["pca"]
        pcs = (trim(z, tr["cutoff"]) - mean.astype(np.float64)) @ comp.astype(np.float64)
        p = ref.softmax(ref.tcn_logits(self.params["tcn"], pcs))
        return np.array([p[ref.REFERENCE_CLASSES.index(c)] for c in TAUPE_CLASSES])

    def cpp(self, table, cls_name):
        return table["probability"][(table["model"] == "m0") & (table["class"] == cls_name)]

    def test_predict_equals_the_reference_forward(self):
        want = np.stack([self.reference_probabilities(i) for i in range(len(self.glimpses))])
        got = np.stack([self.cpp(self.table, c) for c in TAUPE_CLASSES], axis=1)
        self.assertEqual(got.shape, want.shape)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)
        # The random weights give predictions that differ between trajectories and classes, so a
        # wrong axis or class order could not agree by accident.
        self.assertGreater(want.std(axis=0).max(), 1e-3)
        self.assertGreater(np.abs(want[:, 0] - want[:, 1]).max(), 1e-2)

    def test_class_order_option_swaps_outputs(self):
        run("import", "keras-weights", self.p("reference"), "-m", self.p("model_swapped"),
            "--class-order", "mitosis,apoptosis,synthetic")
        run("predict", "-m", self.p("model_swapped"), "--glimpses", self.p("sim", "glimpses.h5"),
            "-o", self.p("predict_swapped.csv"))
        swapped = taupe.read_csv(self.p("predict_swapped.csv"))
        np.testing.assert_allclose(self.cpp(swapped, "mitosis"), self.cpp(self.table, "apoptosis"), atol=1e-6)
        np.testing.assert_allclose(self.cpp(swapped, "apoptosis"), self.cpp(self.table, "mitosis"), atol=1e-6)

    def test_decoder_forward_in_taupe_layout_equals_the_reference(self):
        run("export", "weights", self.p("model"), "-o", self.p("weights.h5"))
        with h5py.File(self.p("weights.h5"), "r") as f:
            d = {k: f["decoder"][k][()] for k in f["decoder"]}
        rs, blocks, (ok, ob) = self.params["decoder"]
        z = np.random.default_rng(1).normal(size=(3, ref.LATENT))
        # The same forward written in taupe's layout (NCHW, (out, in, kh, kw) kernels, Linear (out, in)).
        x = ref.swish(z @ d["reshape_fc.weight"].T.astype(np.float64) + d["reshape_fc.bias"])
        x = x.reshape(3, 8, 8, -1)  # the Dense output is read as (H, W, C) on both sides
        for i in range(len(blocks)):
            k = np.transpose(d[f"block{i}.conv.weight"], (2, 3, 1, 0))
            p = {"kernel": k, "gamma": d[f"block{i}.bn.weight"], "beta": d[f"block{i}.bn.bias"],
                 "moving_mean": d[f"block{i}.bn.running_mean"], "moving_variance": d[f"block{i}.bn.running_var"]}
            x = ref.conv_block(x, p)
            if i < len(blocks) - 1:
                x = x.repeat(2, axis=1).repeat(2, axis=2)
        got = ref.conv2d_same(x, np.transpose(d["output.weight"], (2, 3, 1, 0))) + d["output.bias"]
        np.testing.assert_allclose(got, ref.decoder_forward(self.params["decoder"], z), rtol=1e-5, atol=1e-5)

    def test_manifest_records_provenance_and_pc_variance(self):
        with open(self.p("model", "manifest.json")) as f:
            m = json.load(f)
        self.assertIn("imported_from", m["encoder"]["training"])
        self.assertEqual(m["temporal"]["folds"], 1)
        self.assertEqual(m["temporal"]["provenance"]["class_order"], list(ref.REFERENCE_CLASSES))
        ratio = np.array(m["projector"]["explained_variance_ratio"], dtype=float)
        self.assertAlmostEqual(ratio.sum(), 1.0, places=6)

    def test_broken_layouts_are_refused_naming_file_and_weight(self):
        bad = self.p("bad")
        ref.write_reference_weights(bad, np.random.default_rng(3))
        with h5py.File(os.path.join(bad, "temporal_weights.h5"), "r+") as f:
            del f["tcn"]["tcn"]["residual_block_3"]["norm_1"]["g:0"]
        r = run("import", "keras-weights", bad, "-m", self.p("model_bad"), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("temporal_weights.h5", r.stderr)
        self.assertIn("residual_block_3/norm_1/g:0", r.stderr)
        self.assertFalse(os.path.exists(self.p("model_bad")))
        r = run("import", "keras-weights", self.p("reference"), "-m", self.p("model"), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--overwrite", r.stderr)
        r = run("import", "keras-weights", self.p("reference"), "-m", self.p("model_x"), "--class-order",
                "apoptosis,mitosis,mitosis", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("repeated", r.stderr)


if __name__ == "__main__":
    unittest.main()

"""The PyTorch model set (taupe.model) reproduces `taupe predict`.

A `tiny` simulation, encoder, projector and 2-fold TCN cross-validation (seconds), then
`taupe export weights` and `taupe predict`: every model's probabilities from PyTorch equal the
C++ ones to 1e-5, the encodings reader agrees with the C++ writer on every trajectory's keys,
and the typicality gate is reproduced (the same inputs are rejected). Needs Debian's
python3-torch (scripts/setup.sh installs it); ctest registers the test only when it imports."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taupe  # noqa: E402
from taupe import model  # noqa: E402

BIN = os.environ.get("TAUPE_BINARY", "taupe")


def run(*args):
    subprocess.run([BIN, "-q", "--threads", "1", *args], check=True, stdout=subprocess.DEVNULL)


@unittest.skipIf(model.torch is None, "PyTorch is not installed")
class ModelParity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="taupe_model_")
        d = cls.tmp.name
        p = lambda *a: os.path.join(d, *a)
        run("simulate", "--preset", "tiny", "--out", p("sim"))
        run("train", "encoder", "--preset", "tiny", "--patches", p("sim", "patches.h5"), "-m", p("model"))
        run("train", "projector", "--preset", "tiny", "--patches", p("sim", "patches.h5"), "-m", p("model"))
        run("train", "temporal", "--preset", "tiny", "-m", p("model"), "--glimpses", p("sim", "glimpses.h5"))
        run("export", "weights", p("model"), "-o", p("weights.h5"))
        run("predict", "-m", p("model"), "--encodings", p("model", "encodings.h5"), "-o", p("predict.csv"))
        cls.ms = model.ModelSet.from_weights(p("weights.h5"))
        cls.enc = taupe.read_encodings(p("model", "encodings.h5"))
        cls.table = taupe.read_csv(p("predict.csv"))
        cls.x, cls.real = cls.ms.inputs(cls.enc)
        cls.p = cls.ms.predict(cls.x, cls.real)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def cpp(self, label, cls_name):
        """`taupe predict`'s probabilities of one model ("m0", ..., "mean") and class."""
        t = self.table
        sel = (t["model"] == label) & (t["class"] == cls_name)
        return t["probability"][sel]

    def test_probabilities_equal_taupe_predict(self):
        self.assertEqual(len(self.ms), 2)
        self.assertEqual(self.p.shape, (2, len(self.enc), 3))
        for k in range(len(self.ms)):
            for c, name in enumerate(model.CLASSES):
                np.testing.assert_allclose(self.p[k, :, c], self.cpp(f"m{k}", name), rtol=0, atol=1e-5)
        mean = self.p.mean(axis=0)
        for c, name in enumerate(model.CLASSES):
            np.testing.assert_allclose(mean[:, c], self.cpp("mean", name), rtol=0, atol=1e-5)

    def test_encodings_reader_agrees_with_the_cpp_rows(self):
        t = self.table
        first = (t["model"] == "m0") & (t["class"] == "mitosis")
        rows = [self.enc.trajectory(i) for i in range(len(self.enc))]
        np.testing.assert_array_equal([r["id"] for r in rows], t["trajectory_id"][first])
        np.testing.assert_array_equal([r["track_id"] for r in rows], t["track_id"][first])
        self.assertEqual([r["movie"] for r in rows], list(t["movie"][first]))
        self.assertEqual([taupe.FATES[int(r["fate"])] for r in rows], list(t["fate"][first]))
        self.assertEqual(self.enc.latent_dims, self.x.shape[2])
        for r, real in zip(rows, self.real):
            self.assertEqual(int(real.sum()), min(min(max(int(r["cutoff"]), 0), len(r["z_mean"]) - 1) + 1, self.ms.max_len))

    def test_gate_rejections_match_and_the_tcn_alone_differs_there(self):
        ungated = self.ms.predict(self.x, self.real, gate=False)
        self.assertGreater(int(np.all(self.p == (0.0, 0.0, 1.0), axis=2).sum()), 0, "tiny's gate rejects some inputs")
        for k in range(len(self.ms)):
            rejected = np.all(self.p[k] == (0.0, 0.0, 1.0), axis=1)
            m = f"m{k}"
            cpp_rejected = (self.cpp(m, "mitosis") == 0) & (self.cpp(m, "apoptosis") == 0) & (self.cpp(m, "synthetic") == 1)
            np.testing.assert_array_equal(rejected, cpp_rejected)
            np.testing.assert_allclose(ungated[k][~rejected], self.p[k][~rejected], rtol=0, atol=0)
            self.assertTrue(np.all(ungated[k][rejected, 2] < 1.0))

    def test_weight_norm_kernel_has_the_norm_g(self):
        conv = self.ms.tcns[0].blocks[0].conv0
        w = conv.weight().detach().numpy()
        np.testing.assert_allclose(np.sqrt((w ** 2).sum(axis=(1, 2))), np.abs(conv.g.detach().numpy()), rtol=1e-5)

    def test_patches_reader_agrees_with_what_the_projector_read(self):
        patches = taupe.read_patches(os.path.join(self.tmp.name, "sim", "patches.h5"))
        with open(os.path.join(self.tmp.name, "model", "manifest.json")) as f:
            manifest = json.load(f)
        with open(os.path.join(self.tmp.name, "model", "pc_meaning.json")) as f:
            meaning = json.load(f)
        self.assertEqual(manifest["projector"]["samples"], len(patches.images))
        self.assertEqual(meaning["patches"], len(patches.images))
        self.assertEqual(meaning["has_nuclear_area"], "nuclear_area_um2" in patches.features)
        self.assertEqual(patches.images.dtype, np.uint16)
        for name, values in patches.features.items():
            self.assertEqual(len(values), len(patches.images), name)

    def test_wrong_file_is_refused(self):
        with self.assertRaisesRegex(ValueError, "expected 'taupe.weights'"):
            model.read_weights(os.path.join(self.tmp.name, "model", "encodings.h5"))


if __name__ == "__main__":
    unittest.main()

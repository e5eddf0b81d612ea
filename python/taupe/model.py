"""A trained model set in PyTorch: the K fold TCNs of `taupe export weights`, with the PCA they
were trained with and each fold's typicality gate, giving the probabilities of `taupe predict`.

numpy + h5py read the weight file; torch (Debian's python3-torch) is needed only to build the
modules::

    import taupe
    from taupe.model import ModelSet
    ms = ModelSet.from_weights("weights.h5")            # taupe export weights RUN/model -o weights.h5
    enc = taupe.read_encodings("RUN/encodings.h5")
    x, real = ms.inputs(enc)                            # (n, max_len, D) raw latents, (n, max_len) real frames
    p = ms.predict(x, real)                             # (K, n, 3) probabilities, gate applied
    p_tcn = ms.predict(x, real, gate=False)             # the TCN alone

Class order: mitosis, apoptosis, synthetic. The architecture is docs/models.md's TCN: weight-
normalised causal dilated convolutions (kernel g * v / ||v|| per output channel), swish
activations, residual blocks whose skip outputs are summed, and a two-layer head on the last step.
"""
import json

import h5py
import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - the readers work without torch
    torch = None

#: Raw latent of a padding frame (sequences are pre-padded to max_len).
PAD_MEAN = 0.0
#: `FateClass` order of the model outputs.
CLASSES = ("mitosis", "apoptosis", "synthetic")


def read_weights(path):
    """(arrays, records) of a taupe.weights file: {group: {name: float32 array}} and
    {group: dict} for the groups that carry a JSON `meta` record (the fold TCNs)."""
    arrays, records = {}, {}
    with h5py.File(str(path), "r") as f:
        fmt = f.attrs.get("format")
        fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
        if fmt != "taupe.weights":
            raise ValueError(f"{path}: attribute 'format' is '{fmt}', expected 'taupe.weights'")

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                group, _, tensor = name.rpartition("/")
                value = obj[()]
                if int(obj.attrs.get("scalar", 0)) == 1:
                    value = value.reshape(())
                arrays.setdefault(group, {})[tensor] = np.asarray(value, dtype=np.float32)
            elif "meta" in obj.attrs:
                raw = obj.attrs["meta"]
                records[name] = json.loads(raw.decode() if isinstance(raw, bytes) else raw)

        f.visititems(visit)
    return arrays, records


def trim_inputs(z_mean, cutoff, max_len):
    """One trajectory's TCN input: frames 0..cutoff (clamped), the last max_len of them,
    pre-padded with PAD_MEAN. Returns (x (max_len, D) float32, real (max_len) bool)."""
    frames, dims = z_mean.shape
    last = min(max(int(cutoff), 0), frames - 1)
    kept = min(last + 1, max_len)
    x = np.full((max_len, dims), PAD_MEAN, dtype=np.float32)
    real = np.zeros(max_len, dtype=bool)
    x[max_len - kept:] = z_mean[last + 1 - kept:last + 1]
    real[max_len - kept:] = True
    return x, real


def _need_torch():
    if torch is None:
        raise ImportError("taupe.model needs PyTorch (Debian: apt-get install python3-torch)")


def _swish(x):
    return x * torch.sigmoid(x)


if torch is not None:

    class WeightNormConv1d(torch.nn.Module):
        """Causal dilated Conv1D with weight normalisation: (B, in, T) -> (B, out, T)."""

        def __init__(self, v, g, bias, dilation):
            super().__init__()
            self.v = torch.nn.Parameter(torch.as_tensor(v))
            self.g = torch.nn.Parameter(torch.as_tensor(g))
            self.bias = torch.nn.Parameter(torch.as_tensor(bias))
            self.dilation = int(dilation)

        def weight(self):
            norm = self.v.pow(2).sum(dim=(1, 2), keepdim=True).sqrt()
            return self.g.view(-1, 1, 1) * self.v / norm

        def forward(self, x):
            pad = (self.v.shape[2] - 1) * self.dilation
            return F.conv1d(F.pad(x, (pad, 0)), self.weight(), self.bias, dilation=self.dilation)

    class TcnBlock(torch.nn.Module):
        """Residual block: returns (swish(x1 + shortcut(x)), x1) with x1 = swish(swish(conv1(swish(conv0 x))))."""

        def __init__(self, w, prefix, dilation):
            super().__init__()
            conv = lambda c: WeightNormConv1d(w[f"{prefix}.{c}.v"], w[f"{prefix}.{c}.g"], w[f"{prefix}.{c}.bias"], dilation)
            self.conv0, self.conv1 = conv("conv0"), conv("conv1")
            sw = w.get(f"{prefix}.shortcut_weight")
            self.shortcut = None
            if sw is not None:
                self.shortcut = torch.nn.Conv1d(sw.shape[1], sw.shape[0], 1)
                with torch.no_grad():
                    self.shortcut.weight.copy_(torch.as_tensor(sw))
                    self.shortcut.bias.copy_(torch.as_tensor(w[f"{prefix}.shortcut_bias"]))

        def forward(self, x):
            h = _swish(self.conv0(x))
            x1 = _swish(_swish(self.conv1(h)))
            x2 = self.shortcut(x) if self.shortcut is not None else x
            return _swish(x1 + x2), x1

    class Tcn(torch.nn.Module):
        """One fold TCN: PC coordinates (B, T, D) -> logits (B, 3)."""

        def __init__(self, w, options):
            super().__init__()
            self.blocks = torch.nn.ModuleList(
                TcnBlock(w, f"block{i}", d) for i, d in enumerate(options["dilations"]))
            self.head1 = torch.nn.Linear(w["head_w1"].shape[1], w["head_w1"].shape[0])
            self.head2 = torch.nn.Linear(w["head_w2"].shape[1], w["head_w2"].shape[0])
            with torch.no_grad():
                for lin, i in ((self.head1, 1), (self.head2, 2)):
                    lin.weight.copy_(torch.as_tensor(w[f"head_w{i}"]))
                    lin.bias.copy_(torch.as_tensor(w[f"head_b{i}"]))

        def forward(self, pcs):
            h = pcs.transpose(1, 2)
            skips = 0
            for block in self.blocks:
                h, skip = block(h)
                skips = skips + skip
            return self.head2(_swish(self.head1(skips[:, :, -1])))


class Gate:
    """A fold's typicality gate: mean over real frames of sum_d x_d^2 * inv_var_d above
    `threshold` -> probabilities (0, 0, 1)."""

    def __init__(self, record):
        t = record or {}
        self.inv_var = np.asarray(t.get("inv_var", []), dtype=np.float64)
        self.threshold = float(t.get("threshold", np.inf))
        self.quantile = t.get("quantile")

    @property
    def enabled(self):
        return np.isfinite(self.threshold) and self.inv_var.size > 0

    def scores(self, pcs, real):
        """pcs (n, T, D), real (n, T) -> (n,) scores (0 for a trajectory without real frames)."""
        pcs = np.asarray(pcs, dtype=np.float64)
        per_frame = (pcs * pcs * self.inv_var).sum(axis=2) * real
        count = real.sum(axis=1)
        return np.where(count > 0, per_frame.sum(axis=1) / np.maximum(count, 1), 0.0)


class ModelSet:
    """The K fold models of one model directory, as exported by `taupe export weights`."""

    def __init__(self, tcns, gates, pca_mean, pca_components, max_len):
        self.tcns, self.gates = tcns, gates
        self.pca_mean = np.asarray(pca_mean, dtype=np.float32)
        self.pca_components = np.asarray(pca_components, dtype=np.float32)
        self.max_len = int(max_len)

    @classmethod
    def from_weights(cls, path):
        _need_torch()
        arrays, records = read_weights(path)
        folds = sorted(g for g in arrays if g.startswith("temporal/"))
        if not folds:
            raise ValueError(f"{path}: no temporal/fold_XX group (export a model directory after `taupe train temporal`)")
        tcns, gates, max_len = [], [], None
        for g in folds:
            rec = records.get(g)
            if rec is None or "options" not in rec:
                raise ValueError(f"{path}: group '{g}' has no 'meta' record (exported by a taupe older than the model loader)")
            tcn = Tcn(arrays[g], rec["options"]).eval()
            tcns.append(tcn)
            gates.append(Gate(rec.get("typicality")))
            if max_len is not None and rec["max_len"] != max_len:
                raise ValueError(f"{path}: group '{g}': max_len {rec['max_len']} differs from the other folds' {max_len}")
            max_len = rec["max_len"]
        first = arrays[folds[0]]
        return cls(tcns, gates, first["pca.mean"], first["pca.components"], max_len)

    def __len__(self):
        return len(self.tcns)

    def inputs(self, encodings):
        """Every trajectory of a taupe.encodings reader (taupe.read_encodings), in file order:
        (x (n, max_len, D) raw latents, real (n, max_len) bool)."""
        xs, reals = [], []
        for i in range(len(encodings)):
            t = encodings.trajectory(i)
            x, real = trim_inputs(t["z_mean"], t["cutoff"], self.max_len)
            xs.append(x)
            reals.append(real)
        return np.stack(xs), np.stack(reals)

    def to_pc(self, x):
        """Raw latents (..., D) -> PC coordinates (X - mean) C^T (float32)."""
        return (np.asarray(x, dtype=np.float32) - self.pca_mean) @ self.pca_components.T

    def logits(self, x, model):
        _need_torch()
        with torch.no_grad():
            return self.tcns[model](torch.from_numpy(np.ascontiguousarray(self.to_pc(x)))).numpy()

    def predict(self, x, real, gate=True):
        """x (n, max_len, D) raw latents, real (n, max_len) -> (K, n, 3) softmax probabilities;
        with gate=True the inputs a fold's gate rejects get (0, 0, 1)."""
        _need_torch()
        pcs = self.to_pc(x)
        out = []
        for k, tcn in enumerate(self.tcns):
            with torch.no_grad():
                p = torch.softmax(tcn(torch.from_numpy(np.ascontiguousarray(pcs))), dim=1).numpy()
            g = self.gates[k]
            if gate and g.enabled:
                rejected = g.scores(pcs, real) > g.threshold
                p[rejected] = (0.0, 0.0, 1.0)
            out.append(p)
        return np.stack(out)

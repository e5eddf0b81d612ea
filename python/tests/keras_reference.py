"""Reference-implementation fixtures and forward passes, written from tau-vae-reference.md alone
(Keras semantics, channels-last, float64 numpy), independently of taupe's C++ port.

write_reference_weights(dir, rng) writes the four files the reference saves, in the Keras 2 HDF5
layout of `model.save_weights` (root attribute `layer_names`; per layer group `weight_names`;
datasets at `<layer>/<weight name>`), the decoder as a whole-model save (`model_weights/`):
  encoder_weights.h5   variational_encoder: encoder2d (4 ConvBlock2D: conv kernel, BN), then
                       intermediate_FC1, intermediate_FC2, z_mean, z_log_var (Dense)
  decoder_weights.h5   reshape_FC, decoder2d (4 ConvBlock2D), output (1x1 Conv2D)
  temporal_weights.h5  tcn (7 residual blocks; tfa WeightNormalization: g, kernel, bias, then the
                       non-trainable `initialized` flag and data-init clone), dense, dense_1
  projector_components.npz  components (D, D), column j = PC j; mean (D,)
The weights are random (glorot-like scales, Dense layers larger, BN statistics away from 0/1) so that a wrong axis
order or a wrong class order changes the outputs."""
import os

import h5py
import numpy as np

LAYERS = [8, 16, 32, 64]
LATENT = 32
DILATIONS = [1, 2, 4, 8, 16, 32, 64]
FILTERS = 64
KERNEL = 2
HEAD = 128
#: The reference's output order (its confusion callback's).
REFERENCE_CLASSES = ("apoptosis", "mitosis", "synthetic")


def _glorot(rng, shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


def _write_keras(path, layers, whole_model=False):
    """layers: [(layer name, [(weight name, array), ...]), ...] in model order."""
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights") if whole_model else f
        root.attrs["layer_names"] = np.array([name.encode() for name, _ in layers])
        root.attrs["backend"] = b"tensorflow"
        root.attrs["keras_version"] = b"2.11.0"
        for name, weights in layers:
            g = root.create_group(name)
            g.attrs["weight_names"] = np.array([w.encode() for w, _ in weights], dtype="S")
            for wname, arr in weights:
                g.create_dataset(wname, data=arr)


def _conv_blocks(rng, scope, channels_in, layers):
    """A Keras layer holding ConvBlock2Ds: its weights list trainable weights first (kernel,
    gamma, beta per block), then non-trainable ones (moving mean and variance per block)."""
    trainable, frozen, params = [], [], []
    cin = channels_in
    for i, cout in enumerate(layers):
        sfx = "" if i == 0 else f"_{i}"
        p = {
            "kernel": _glorot(rng, (3, 3, cin, cout), 9 * cin, 9 * cout),
            "gamma": rng.uniform(1.6, 2.6, cout).astype(np.float32),
            "beta": rng.normal(0, 0.1, cout).astype(np.float32),
            "moving_mean": rng.normal(0, 0.2, cout).astype(np.float32),
            "moving_variance": rng.uniform(0.5, 2.0, cout).astype(np.float32),
        }
        block = f"{scope}/conv_block2d{sfx}"
        trainable += [(f"{block}/conv2d{sfx}/kernel:0", p["kernel"]),
                      (f"{block}/batch_normalization{sfx}/gamma:0", p["gamma"]),
                      (f"{block}/batch_normalization{sfx}/beta:0", p["beta"])]
        frozen += [(f"{block}/batch_normalization{sfx}/moving_mean:0", p["moving_mean"]),
                   (f"{block}/batch_normalization{sfx}/moving_variance:0", p["moving_variance"])]
        params.append(p)
        cin = cout
    return trainable + frozen, params


def _dense(rng, name, n_in, n_out, gain=1.0):
    # Variance gain^2 / fan_in (larger than glorot): the outputs then vary across inputs by O(1).
    k = rng.uniform(-1, 1, size=(n_in, n_out)).astype(np.float32) * np.float32(gain * np.sqrt(3.0 / n_in))
    b = rng.normal(0, 0.05, n_out).astype(np.float32)
    return (name, [(f"{name}/kernel:0", k), (f"{name}/bias:0", b)]), (k, b)


def _tcn(rng):
    trainable, frozen, blocks = [], [], []
    cin = LATENT
    for i, d in enumerate(DILATIONS):
        blk = {"dilation": d, "convs": []}
        for c in range(2):
            scope = f"tcn/residual_block_{i}/norm_{c}"
            n_in = cin if c == 0 else FILTERS
            v = _glorot(rng, (KERNEL, n_in, FILTERS), KERNEL * n_in, KERNEL * FILTERS)
            g = rng.uniform(0.5, 1.5, FILTERS).astype(np.float32)
            b = rng.normal(0, 0.05, FILTERS).astype(np.float32)
            trainable += [(f"{scope}/g:0", g), (f"{scope}/conv1D_{c}/kernel:0", v), (f"{scope}/conv1D_{c}/bias:0", b)]
            frozen += [(f"{scope}/initialized:0", np.array(True)),
                       (f"{scope}/data_dep_init/conv1D_{c}/kernel:0", v * 3.0),
                       (f"{scope}/data_dep_init/conv1D_{c}/bias:0", np.zeros(FILTERS, np.float32))]
            blk["convs"].append((v, g, b))
        if cin != FILTERS:
            mk = _glorot(rng, (1, cin, FILTERS), cin, FILTERS)
            mb = rng.normal(0, 0.05, FILTERS).astype(np.float32)
            trainable += [(f"tcn/residual_block_{i}/matching_conv1D/kernel:0", mk),
                          (f"tcn/residual_block_{i}/matching_conv1D/bias:0", mb)]
            blk["match"] = (mk, mb)
        blocks.append(blk)
        cin = FILTERS
    return ("tcn", trainable + frozen), blocks


def write_reference_weights(out_dir, rng):
    """Writes the four reference files into out_dir; returns the parameters for the forwards."""
    os.makedirs(out_dir, exist_ok=True)
    enc_weights, enc_blocks = _conv_blocks(rng, "encoder2d", 2, LAYERS)
    flat = 8 * 8 * LAYERS[-1]
    fc1, fc1_p = _dense(rng, "intermediate_FC1", flat, 256)
    fc2, fc2_p = _dense(rng, "intermediate_FC2", flat, 256)
    zm, zm_p = _dense(rng, "z_mean", 256, LATENT)
    zv, zv_p = _dense(rng, "z_log_var", 256, LATENT)
    _write_keras(os.path.join(out_dir, "encoder_weights.h5"),
                 [("input_1", []), ("encoder2d", enc_weights), ("flatten", []), fc1, fc2, zm, zv])
    rs, rs_p = _dense(rng, "reshape_FC", LATENT, flat)
    dec_weights, dec_blocks = _conv_blocks(rng, "decoder2d", LAYERS[-1], LAYERS[::-1])
    out_k = _glorot(rng, (1, 1, LAYERS[0], 2), LAYERS[0], 2)
    out_b = rng.normal(0, 0.05, 2).astype(np.float32)
    _write_keras(os.path.join(out_dir, "decoder_weights.h5"),
                 [("input_2", []), rs, ("reshape", []), ("decoder2d", dec_weights),
                  ("output", [("output/kernel:0", out_k), ("output/bias:0", out_b)])], whole_model=True)
    tcn_layer, tcn_blocks = _tcn(rng)
    h1, h1_p = _dense(rng, "dense", FILTERS, HEAD)
    h2, h2_p = _dense(rng, "dense_1", HEAD, 3, gain=8.0)
    _write_keras(os.path.join(out_dir, "temporal_weights.h5"),
                 [("input_3", []), ("pca_transform", []), tcn_layer, h1, h2])
    q, _ = np.linalg.qr(rng.normal(size=(LATENT, LATENT)))
    mean = rng.normal(0, 0.3, LATENT)
    np.savez(os.path.join(out_dir, "projector_components.npz"), components=q.astype(np.float32),
             mean=mean.astype(np.float32))
    return {"encoder": (enc_blocks, fc1_p, fc2_p, zm_p, zv_p), "decoder": (rs_p, dec_blocks, (out_k, out_b)),
            "tcn": (tcn_blocks, h1_p, h2_p), "pca": (q.astype(np.float32), mean.astype(np.float32))}


# ---- forwards (float64, channels-last) ----------------------------------------------------------

def swish(x):
    return x / (1.0 + np.exp(-x))


def standardize(images):
    """(n, H, W, C) -> per image and channel (x - mean) / max(std, 1/sqrt(HW)), clipped to +-4."""
    x = images.astype(np.float64)
    m = x.mean(axis=(1, 2), keepdims=True)
    s = np.maximum(x.std(axis=(1, 2), keepdims=True), 1.0 / np.sqrt(x.shape[1] * x.shape[2]))
    return np.clip((x - m) / s, -4.0, 4.0)


def conv2d_same(x, k):
    """x (n, H, W, Cin), kernel (kh, kw, Cin, Cout), stride 1, 'same' zero padding."""
    kh, kw = k.shape[:2]
    ph, pw = kh // 2, kw // 2
    xp = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    out = 0.0
    for i in range(kh):
        for j in range(kw):
            out = out + xp[:, i:i + x.shape[1], j:j + x.shape[2], :] @ k[i, j].astype(np.float64)
    return out


def conv_block(x, p):
    y = conv2d_same(x, p["kernel"])
    y = (y - p["moving_mean"]) / np.sqrt(p["moving_variance"].astype(np.float64) + 1e-3) * p["gamma"] + p["beta"]
    return swish(y)


def encoder_forward(params, images):
    """images (n, H, W, 2) raw -> z_mean (n, D)."""
    blocks, fc1, fc2, zm, zv = params
    x = standardize(images)
    for i, p in enumerate(blocks):
        x = conv_block(x, p)
        if i < len(blocks) - 1:
            n, h, w, c = x.shape
            x = x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))
    flat = x.reshape(x.shape[0], -1)
    h = swish(flat @ fc1[0] + fc1[1])
    return h @ zm[0] + zm[1]


def decoder_forward(params, z):
    """z (n, D) -> reconstruction (n, 64, 64, 2)."""
    rs, blocks, (ok, ob) = params
    x = swish(z @ rs[0] + rs[1]).reshape(z.shape[0], 8, 8, LAYERS[-1])
    for i, p in enumerate(blocks):
        x = conv_block(x, p)
        if i < len(blocks) - 1:
            x = x.repeat(2, axis=1).repeat(2, axis=2)
    return conv2d_same(x, ok) + ob


def causal_conv1d(x, k, b, d):
    """x (T, Cin), kernel (K, Cin, Cout): out[t] = sum_j x[t - (K-1-j) d] k[j] + b (zero history)."""
    K = k.shape[0]
    pad = (K - 1) * d
    xp = np.vstack([np.zeros((pad, x.shape[1])), x])
    out = np.zeros((x.shape[0], k.shape[2])) + b
    for j in range(K):
        out = out + xp[j * d:j * d + x.shape[0]] @ k[j].astype(np.float64)
    return out


def tcn_logits(params, pcs):
    """pcs (T, D) -> logits in the reference's class order."""
    blocks, h1, h2 = params
    x, skips = pcs, 0.0
    for blk in blocks:
        h = x
        for v, g, b in blk["convs"]:
            v64 = v.astype(np.float64)
            w = g * v64 / np.sqrt((v64 ** 2).sum(axis=(0, 1), keepdims=True))
            h = swish(causal_conv1d(h, w, b, blk["dilation"]))
        x1 = swish(h)
        x2 = x @ blk["match"][0][0].astype(np.float64) + blk["match"][1] if "match" in blk else x
        x = swish(x1 + x2)
        skips = skips + x1
    return swish(skips[-1] @ h1[0] + h1[1]) @ h2[0] + h2[1]


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()

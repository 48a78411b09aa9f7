"""The any-mask unrolled network: its SENSE operator, the training input against the inference path,
and a tiny model trained, resumed and run on a hand-painted mask."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from mrstudio.nets import sense


def _rand(*shape):
    g = torch.Generator().manual_seed(sum(shape))
    return torch.complex(torch.randn(*shape, generator=g), torch.randn(*shape, generator=g))


def test_sense_adjoint_and_agreement_with_the_2d_operator():
    from mrstudio.core.fft import fft2c

    b, c, t, ny, nx = 2, 3, 4, 16, 10
    x, y, maps = _rand(b, t, ny, nx), _rand(b, c, t, ny, nx), _rand(b, c, ny, nx)
    mask = torch.rand(b, t, ny, generator=torch.Generator().manual_seed(1)) < 0.4
    lhs = (sense.forward(x, maps, mask).conj() * y).sum()
    rhs = (x.conj() * sense.adjoint(y, maps, mask)).sum()
    assert abs(lhs - rhs) / abs(lhs) < 1e-5  # <Ax, y> = <x, Aᴴy>
    # hybrid forward = the 2-D centred FFT of the coil images, masked, then the readout transform undone
    k2d = fft2c((maps[:, :, None] * x[:, None]).numpy()) * mask[:, None, :, :, None].numpy()
    np.testing.assert_allclose(sense.forward(x, maps, mask).numpy(), sense.ifftc_x(torch.from_numpy(k2d)).numpy(),
                               atol=1e-4)


def test_sense1_is_the_numpy_coil_combination_and_zero_where_the_maps_vanish():
    from mrstudio.core.coils import combine

    c, t, ny, nx = 3, 4, 16, 10
    y, maps = _rand(1, c, t, ny, nx), _rand(1, c, ny, nx)
    maps[..., :3] = 0  # outside the support
    full = torch.ones(1, t, ny, dtype=torch.bool)
    coil_images = sense.ifftc_y(y)[0].numpy()  # (C, T, Ny, Nx)
    want = combine(coil_images, maps[0].numpy())
    got = sense.sense1(y, maps, full)[0].numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert np.all(got[..., :3] == 0) and np.abs(got[..., 3:]).min() > 0


@pytest.mark.parametrize("ky_last", [False, True])
@pytest.mark.parametrize("ny", [16, 15])
def test_sense_normal_is_the_adjoint_of_the_forward(ny, ky_last):
    """The shift-free ``AᴴA`` of the cascades (even ``Ny``) and its odd-size fallback = ``Aᴴ(A x)``, also in
    ``cs``'s transposed layout, with and without autograd (the in-place mask)."""
    x, maps = _rand(2, 4, ny, 10), _rand(2, 3, ny, 10)
    mask = torch.rand(2, 4, ny, generator=torch.Generator().manual_seed(2)) < 0.4
    ref = sense.adjoint(sense.forward(x, maps, mask), maps, mask)
    t = (lambda a: a.transpose(-1, -2).contiguous()) if ky_last else (lambda a: a)
    xg = t(x).requires_grad_()
    out = t(sense.normal(xg, t(maps), mask, ky_last=ky_last))
    out.abs().sum().backward()
    assert xg.grad is not None and torch.isfinite(xg.grad).all()
    with torch.inference_mode():
        fast = t(sense.normal(t(x), t(maps), mask, ky_last=ky_last))
    for o in (out.detach(), fast):
        np.testing.assert_allclose(o.numpy(), ref.numpy(), atol=1e-5 * float(ref.abs().max()))


def test_view_share_fills_each_missing_line_with_the_mean_of_the_frames_that_have_it():
    y = _rand(1, 2, 3, 5, 4)
    mask = torch.tensor([[[1, 0, 1, 0, 0], [1, 1, 0, 0, 0], [0, 0, 1, 0, 1]]], dtype=torch.bool)  # line 3: never
    y = y * mask[:, None, :, :, None]
    vs = sense.view_share(y, mask)
    for t in range(3):
        for ky in range(5):
            have = [f for f in range(3) if mask[0, f, ky]]
            want = y[:, :, t, ky] if mask[0, t, ky] else (
                sum(y[:, :, f, ky] for f in have) / len(have) if have else torch.zeros_like(y[:, :, t, ky]))
            np.testing.assert_allclose(vs[:, :, t, ky].numpy(), want.numpy(), atol=1e-6)


def test_unrolled_config_names_its_start_and_old_cards_start_from_the_adjoint():
    from mrstudio.nets.unrolled import UnrolledConfig

    old = UnrolledConfig(**{"cascades": 5, "channels": 12, "layers": 4})
    assert old.x0 == "adjoint" and old.map_support == 0.0  # cards before x0 and map_support
    with pytest.raises(ValueError, match="map_support"):
        UnrolledConfig(map_support=1.5)
    with pytest.raises(ValueError, match="x0 must be one of"):
        UnrolledConfig(x0="sense")


@pytest.mark.parametrize("bias", [True, False])
def test_onednn_convolution_keeps_values_and_gradients(bias):
    """The first layer's case (one sample, 2 channels, channels-last input and weights): what ``nn.Conv3d``
    gives, forward and backward."""
    from mrstudio.nets.unrolled import OneDnnConv3d

    torch.manual_seed(0)
    fast = OneDnnConv3d(2, 5, 3, padding=(1, 2, 2), dilation=(1, 2, 2), bias=bias).to(memory_format=torch.channels_last_3d)
    plain = torch.nn.Conv3d(2, 5, 3, padding=(1, 2, 2), dilation=(1, 2, 2), bias=bias)
    plain.load_state_dict(fast.state_dict())
    z = torch.randn(1, 2, 4, 12, 12).to(memory_format=torch.channels_last_3d).requires_grad_()
    z2 = z.detach().clone().contiguous().requires_grad_()
    out, ref = fast(z), plain(z2)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-5)
    g = torch.randn_like(ref)
    out.backward(g)
    ref.backward(g)
    np.testing.assert_allclose(z.grad.numpy(), z2.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(fast.weight.grad.numpy(), plain.weight.grad.numpy(), atol=1e-4)


@pytest.mark.parametrize("n", [1, 2, 7, 1000])
@pytest.mark.parametrize("q", [0.0, 0.5, 0.99, 1.0])
def test_kthvalue_quantile_is_torch_quantile(q, n):
    from mrstudio.nets.unrolled import quantile

    v = torch.rand(2, n, generator=torch.Generator().manual_seed(n))
    np.testing.assert_allclose(quantile(v, q).numpy(), torch.quantile(v, q, dim=1).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="q must be in"):
        quantile(v, 1.5)


@pytest.mark.parametrize("x0", ["adjoint", "viewshare"])
def test_unrolled_forward_is_the_plain_formula(x0):
    """The network with its fast paths = the textbook cascades: ``x ← x − η Aᴴ(A x − y) + CNN(x)`` with
    ``nn.Conv3d`` layers, ``torch.quantile`` and the complex view built by hand, from ``Aᴴy`` or from the
    coil combination of the view-shared data (every line a frame lacks from the frames that have it)."""
    from mrstudio.nets.unrolled import Unrolled, UnrolledConfig

    torch.manual_seed(3)
    net = Unrolled(UnrolledConfig(cascades=2, channels=4, layers=3, x0=x0)).eval()
    y, mask = _rand(1, 3, 5, 16, 12), torch.rand(1, 5, 16, generator=torch.Generator().manual_seed(4)) < 0.4
    y = y * mask[:, None, :, :, None]
    with torch.no_grad():
        maps = sense.lowres_maps(y, mask)
        x = sense.adjoint(y, maps, mask)
        if x0 == "viewshare":
            m = mask[:, None, :, :, None].float()
            shared = y + (1 - m) * (y.sum(2, keepdim=True) / m.sum(2, keepdim=True).clamp_min(1))
            x = (maps.conj()[:, :, None] * sense.ifftc_y(shared)).sum(1)
        scale = torch.quantile(x.abs().flatten(1), 0.99).clamp_min(1e-8)
        x, ys = x / scale, y / scale
        for eta, den in zip(net.steps, net.denoisers):
            z = torch.stack([x.real, x.imag], 1).contiguous()
            for layer in den.net:
                z = (torch.nn.functional.conv3d(z, layer.weight.contiguous(), layer.bias, layer.stride, layer.padding,
                                                layer.dilation) if isinstance(layer, torch.nn.Conv3d) else layer(z))
            grad = sense.adjoint(sense.forward(x, maps, mask) - ys, maps, mask)
            x = x - eta * grad + torch.complex(z[:, 0], z[:, 1])
        ref = x * scale
        out = net(y, mask)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-5 * float(ref.abs().max()))


def test_grown_model_computes_what_its_source_does_and_then_trains_its_new_cascade():
    from mrstudio.nets.unrolled import Unrolled, UnrolledConfig, grown

    torch.manual_seed(5)
    net = Unrolled(UnrolledConfig(cascades=2, channels=4, layers=3, x0="viewshare")).eval()
    big = grown(net, 3)
    assert big.cfg.cascades == 3 and big.cfg.x0 == "viewshare" and len(big.denoisers) == 3
    y, mask = _rand(1, 3, 5, 16, 12), torch.rand(1, 5, 16, generator=torch.Generator().manual_seed(6)) < 0.4
    y = y * mask[:, None, :, :, None]
    with torch.no_grad():
        np.testing.assert_array_equal(big.eval()(y, mask).numpy(), net(y, mask).numpy())
    big(y, mask).abs().sum().backward()  # the new cascade is not dead: its step and last layer get gradients
    assert big.steps.grad[2] != 0 and big.denoisers[2].net[-1].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="cannot grow"):
        grown(big, 2)


@pytest.mark.parametrize("support", [0.0, 0.05])
def test_training_input_is_the_inference_input_cropped(support):
    """What a training step feeds the network (data, maps, truth) is the inference input's columns, and the
    data consistency of the crop is that of the whole image, cropped (the readout is fully sampled)."""
    from mrstudio.core.masks import MaskSpec, make_mask
    from mrstudio.core.phantom import make_phantom
    from mrstudio.nets.unrolled import Unrolled, UnrolledConfig
    from mrstudio.recon.base import undersample
    from mrstudio.train.unrolled import training_sample

    st = make_phantom(size=32, frames=6, coils=3, seed=4)
    mask = make_mask(MaskSpec(accel=4, seed=2), 6, 32)
    net = Unrolled(UnrolledConfig(cascades=1, channels=4, layers=3, map_support=support))
    infer = sense.ifftc_x(torch.from_numpy(undersample(st.kspace, mask)))[None]  # recon/unrolled.py
    m = torch.from_numpy(mask)
    ref = torch.from_numpy(np.abs(st.reference).astype(np.float32))
    y, maps, truth = training_sample(net, sense.ifftc_x(torch.from_numpy(st.kspace)), ref, m, 2, 10)  # train/unrolled.py
    np.testing.assert_allclose(y.numpy(), infer[0, ..., 2:12].numpy(), atol=1e-6)
    full = net.maps(infer, m[None])
    np.testing.assert_allclose(maps.numpy(), full[0, ..., 2:12].numpy(), atol=1e-6)
    np.testing.assert_array_equal(truth.numpy(), ref[..., 2:12].numpy())
    x = _rand(1, 6, 32, 32)
    np.testing.assert_allclose(sense.normal(x[..., 2:12], maps[None], m[None]).numpy(),
                               sense.normal(x, full, m[None])[..., 2:12].numpy(), atol=1e-5)
    if support:  # which is why the maps are cut from the whole image's: a crop alone has another maximum
        assert (sense.lowres_maps(infer[..., 2:12], m[None], support=support) != maps[None]).any()


def test_lowres_maps_support_zeroes_the_background_only():
    """``support`` keeps the maps where the low-res RSS reaches its share of the maximum and zeroes the rest;
    full k-space combined through them then loses the background noise (closer to the truth)."""
    from mrstudio.core import metrics
    from mrstudio.core.masks import MaskSpec, make_mask
    from mrstudio.core.phantom import make_phantom

    st = make_phantom(size=64, frames=4, coils=4, seed=1)
    mask = torch.from_numpy(make_mask(MaskSpec(accel=4, seed=0), 4, 64))[None]
    y = sense.ifftc_x(torch.from_numpy(st.kspace))[None]
    plain, cut = sense.lowres_maps(y, mask), sense.lowres_maps(y, mask, support=0.05)
    np.testing.assert_array_equal(sense.lowres_maps(y, mask, support=0.0).numpy(), plain.numpy())
    kept = (cut.abs() ** 2).sum(1)[0]
    assert ((kept == 0) | ((kept > 0.99) & (kept < 1.0 + 1e-5))).all()  # unit norm (up to lowres_maps' eps) or none
    np.testing.assert_allclose(cut[0][:, kept > 0].numpy(), plain[0][:, kept > 0].numpy())
    assert 0.1 < float((kept == 0).float().mean()) < 0.9  # a background, and not the object
    full = torch.ones_like(mask)
    ref = np.abs(st.reference)
    combined = [sense.adjoint(y, s, full)[0].abs().numpy() for s in (plain, cut)]
    assert metrics.psnr(combined[1], ref) > metrics.psnr(combined[0], ref) + 0.5


@pytest.mark.skipif(not os.path.isdir("/usr/share/mricron/templates") and os.geteuid() != 0,
                    reason="mricron-data not installed (make test installs it as root)")
def test_tiny_model_trains_resumes_and_runs_on_a_painted_mask(tmp_path):
    from mrstudio.core.errors import ParameterError
    from mrstudio.core.masks import painted_mask
    from mrstudio.train.unrolled import UnrolledTrainConfig, train_unrolled

    kw = dict(pool=2, val_cines=1, val_every=2, cascades=2, channels=4, layers=3, crop=16, run_dir=str(tmp_path / "run"),
              out=str(tmp_path / "tiny.pt"), device="cpu")
    card = train_unrolled(UnrolledTrainConfig(steps=2, **kw))
    assert card["steps"] == 2 and card["task"] == "cine-unrolled" and len(card["sha256"]) == 64
    assert card["unrolled"]["x0"] == "viewshare" and card["unrolled"]["map_support"] == 0.05  # the training defaults
    card = train_unrolled(UnrolledTrainConfig(steps=4, **kw))  # resumes from last.pt
    log = json.loads((tmp_path / "run" / "log.json").read_text())
    assert card["steps"] == 4 and [r["step"] for r in log] == [1, 2, 3, 4]
    small = dict(pool=2, val_cines=1, val_every=1, crop=16, device="cpu", run_dir=str(tmp_path / "warm"))
    warm = train_unrolled(UnrolledTrainConfig(steps=1, init=str(tmp_path / "tiny.pt"), **small))
    shapes = lambda c: (c["unrolled"]["cascades"], c["unrolled"]["channels"], c["unrolled"]["layers"])  # noqa: E731
    assert shapes(warm) == (2, 4, 3) and warm["steps"] == 5 and warm["init"]["model"] == "tiny"  # not the defaults
    warm = train_unrolled(UnrolledTrainConfig(steps=2, **small))  # a resume, no --init: the run folder's shapes
    assert shapes(warm) == (2, 4, 3) and warm["steps"] == 6 and warm["init"]["model"] == "tiny"
    with pytest.raises(ParameterError, match="cascades = 2, not 3"):
        train_unrolled(UnrolledTrainConfig(steps=3, cascades=3, **small))
    with pytest.raises(ParameterError, match="map_support = 0.05, not 0.1"):
        train_unrolled(UnrolledTrainConfig(steps=3, map_support=0.1, **small))
    train_unrolled(UnrolledTrainConfig(steps=1, pool=2, val_cines=1, cascades=2, channels=4, layers=3, crop=16,
                                       run_dir=str(tmp_path / "other"), out=str(tmp_path / "other.pt"), device="cpu"))
    with pytest.raises(ParameterError, match="started from another model"):
        train_unrolled(UnrolledTrainConfig(steps=3, init=str(tmp_path / "other.pt"), **small))
    mask = painted_mask(np.random.default_rng(3), 20, 128, 12.0)  # strokes, like a mask drawn in the editor
    np.save(tmp_path / "painted.npy", mask)
    p = subprocess.run([sys.executable, "-m", "mrstudio", "recon", "--study", "anatomy:test:0", "--method", "unrolled",
                        "--model", str(tmp_path / "tiny.pt"), "--mask", str(tmp_path / "painted.npy"), "--json",
                        "--device", "cpu"], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["model"] == "tiny" and out["psnr"] > 10 and 10 < out["accel_effective"] < 14


@pytest.mark.skipif(not os.path.isdir("/usr/share/mricron/templates") and os.geteuid() != 0,
                    reason="mricron-data not installed (make test installs it as root)")
def test_moving_average_is_what_is_validated_kept_shipped_and_resumed(tmp_path):
    import torch

    from mrstudio.core.errors import ParameterError
    from mrstudio.io.model_store import load_state
    from mrstudio.train.unrolled import UnrolledTrainConfig, train_unrolled

    run = tmp_path / "run"
    kw = dict(pool=2, val_cines=1, val_every=2, cascades=2, channels=4, layers=3, crop=16, run_dir=str(run),
              out=str(tmp_path / "avg.pt"), device="cpu")
    card = train_unrolled(UnrolledTrainConfig(steps=2, ema=0.5, **kw))
    assert card["ema"] == 0.5
    two = torch.load(run / "last.pt", weights_only=True)
    card = train_unrolled(UnrolledTrainConfig(steps=3, **kw))  # a resume keeps the run's ema
    three = torch.load(run / "last.pt", weights_only=True)
    for k, e in three["ema"].items():  # e₃ = 0.5 e₂ + 0.5 w₃
        assert torch.allclose(e, 0.5 * two["ema"][k] + 0.5 * three["model"][k], atol=1e-6), k
    assert any(not torch.equal(three["ema"][k], three["model"][k]) for k in three["model"])
    shipped, _, _ = load_state(str(tmp_path / "avg.pt"))
    best = torch.load(run / "best.pt", weights_only=True)
    assert set(shipped) == set(best) and all(torch.equal(shipped[k], best[k]) for k in best)
    assert any(all(torch.equal(best[k], ck["ema"][k]) for k in best) for ck in (two, three))  # an average, never raw
    with pytest.raises(ParameterError, match="ema = 0.5, not 0.9"):
        train_unrolled(UnrolledTrainConfig(steps=4, ema=0.9, **kw))
    with pytest.raises(ParameterError, match="ema"):
        UnrolledTrainConfig(ema=1.0)


@pytest.mark.skipif(not os.path.isdir("/usr/share/mricron/templates") and os.geteuid() != 0,
                    reason="mricron-data not installed (make test installs it as root)")
def test_blurred_training_pool_is_drawn_per_cine_and_recorded(tmp_path):
    from mrstudio.core.errors import ParameterError
    from mrstudio.train.unrolled import UnrolledTrainConfig, _pool, train_unrolled

    sharp, soft = _pool("train", 2), _pool("train", 2, blur=2.0, seed=0)
    again = _pool("train", 2, blur=2.0, seed=0)
    for (_, rs), (_, rb), (_, ra) in zip(sharp, soft, again):
        assert not torch.equal(rs, rb) and torch.equal(rb, ra)  # blurred, the same draw each time
    card = train_unrolled(UnrolledTrainConfig(steps=1, pool=2, val_cines=1, cascades=2, channels=4, layers=3, crop=16,
                                              blur=2.0, run_dir=str(tmp_path / "run"), device="cpu"))
    assert card["training_data"]["blur_px"] == [0.0, 2.0]
    with pytest.raises(ParameterError, match="blur = 2.0, not 1.0"):  # a resume keeps the run's data
        train_unrolled(UnrolledTrainConfig(steps=2, pool=2, val_cines=1, blur=1.0, run_dir=str(tmp_path / "run"),
                                           crop=16, device="cpu"))
    with pytest.raises(ParameterError, match="blur"):
        UnrolledTrainConfig(blur=-0.5)


@pytest.mark.skipif(not os.path.isdir("/usr/share/mricron/templates") and os.geteuid() != 0,
                    reason="mricron-data not installed (make test installs it as root)")
def test_blurred_validation_chooses_by_the_mean_of_plain_and_blurred(tmp_path):
    import json

    from mrstudio.core.errors import ParameterError
    from mrstudio.train.unrolled import UnrolledTrainConfig, _pool, train_unrolled

    (_, sharp), = _pool("val", 1)
    (_, soft), = _pool("val", 1, blur=1.5, fixed=True)
    (_, soft2), = _pool("val", 1, blur=1.5, seed=7, fixed=True)  # fixed: σ itself, not a draw
    assert not torch.equal(sharp, soft) and torch.equal(soft, soft2)
    card = train_unrolled(UnrolledTrainConfig(steps=2, val_every=1, pool=2, val_cines=1, cascades=2, channels=4,
                                              layers=3, crop=16, val_blur=1.5, run_dir=str(tmp_path / "run"),
                                              device="cpu"))
    v = card["validation"]
    assert v["psnr"] == pytest.approx((v["psnr_plain"] + v["psnr_blur"]) / 2)
    assert v["ssim"] == pytest.approx((v["ssim_plain"] + v["ssim_blur"]) / 2) and v["psnr_plain"] != v["psnr_blur"]
    assert "blurred by 1.5 px" in card["training_data"]["validation"]
    rows = json.loads((tmp_path / "run" / "log.json").read_text())
    assert max(r["val_psnr"] for r in rows if "val_psnr" in r) == v["psnr"]  # best.pt by the mean
    with pytest.raises(ParameterError, match="val_blur = 1.5, not 1.0"):  # a resume keeps its validation
        train_unrolled(UnrolledTrainConfig(steps=3, pool=2, val_cines=1, val_blur=1.0, crop=16,
                                           run_dir=str(tmp_path / "run"), device="cpu"))
    with pytest.raises(ParameterError, match="val_blur"):
        UnrolledTrainConfig(val_blur=-1.0)

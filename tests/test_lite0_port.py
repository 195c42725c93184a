"""petbook's EfficientNet-Lite0 against an independent implementation of the original network
(`efficientnet_lite_pytorch`, a dev requirement) with the same ImageNet weights: not only the logits in eval mode but
everything that differs between training and inference — BatchNorm's batch statistics and how its running statistics
move (momentum, eps), stochastic depth (drop-connect) and the classifier's dropout, TensorFlow's 'same' padding — and
the gradients. A comparison in which both sides were petbook's code could not find a flaw in the port."""
import pytest, torch, torch.nn as nn

efficientnet_lite_pytorch = pytest.importorskip('efficientnet_lite_pytorch')
from petbook.models import efficientnet_lite0, lite0_weights_file


@pytest.fixture(scope='module')
def pair():
    sd = torch.load(lite0_weights_file(), map_location='cpu', weights_only=True)
    orig = efficientnet_lite_pytorch.EfficientNet.from_name('efficientnet-lite0'); orig.load_state_dict(sd)
    return orig, efficientnet_lite0(pretrained=True)


def bns(m): return [x for x in m.modules() if isinstance(x, nn.BatchNorm2d)]


def test_batchnorm_settings_are_the_originals(pair):
    orig, mine = pair
    assert len(bns(mine)) == len(bns(orig)) == 2 + 16 * 3 - 1            # stem, head, 3 a block (block 0 has no expansion)
    for a, b in zip(bns(orig), bns(mine)):
        assert b.momentum == pytest.approx(a.momentum) == pytest.approx(0.01) and b.eps == a.eps == 1e-3


def test_drop_connect_rates_are_the_originals(pair):
    orig, mine = pair
    rates = [b.drop_rate for b in mine._blocks]
    assert rates == pytest.approx([orig._global_params.drop_connect_rate * i / len(orig._blocks) for i in range(16)])
    assert mine._dropout.p == orig._dropout.p == 0.2


@pytest.mark.parametrize('size', [224, 128])
def test_eval_logits_equal(pair, size):
    orig, mine = pair; orig.eval(); mine.eval()
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(size))
    with torch.no_grad(): torch.testing.assert_close(mine(x), orig(x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('size', [224, 128])
def test_training_mode_equal(pair, size):
    "Batch statistics, drop-connect's random draws, dropout, the running statistics after a step, and the gradients."
    import copy
    orig, mine = (copy.deepcopy(m).train() for m in pair)
    x = torch.randn(6, 3, size, size, generator=torch.Generator().manual_seed(size))
    torch.manual_seed(7); a = orig(x)
    torch.manual_seed(7); b = mine(x)
    torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
    ob = dict(orig.named_buffers())
    for k, v in mine.named_buffers(): torch.testing.assert_close(v.float(), ob[k].float(), rtol=1e-5, atol=1e-6, msg=k)
    with torch.no_grad(): torch.manual_seed(8); c = copy.deepcopy(mine)(x)
    assert not torch.allclose(b, c), "training mode must be random (drop-connect, dropout)"
    w = torch.randn_like(a)
    (a * w).sum().backward(); (b * w).sum().backward()
    op = dict(orig.named_parameters())
    for k, p in mine.named_parameters():
        g, ref = p.grad, op[k].grad
        assert (g - ref).norm() <= 1e-3 * ref.norm() + 1e-6, k


def test_running_statistics_move_by_the_originals_momentum(pair):
    "One training batch moves each running mean 1 % of the way to the batch's mean (TensorFlow's decay 0.99)."
    _, mine = pair
    import copy
    m = copy.deepcopy(mine).train(); bn = m._bn0
    before = bn.running_mean.clone()
    x = torch.randn(4, 3, 64, 64)
    with torch.no_grad(): m(x); batch_mean = bn.weight.new_tensor(m._conv_stem(x).mean((0, 2, 3)))
    torch.testing.assert_close(bn.running_mean, 0.99 * before + 0.01 * batch_mean, rtol=1e-4, atol=1e-5)

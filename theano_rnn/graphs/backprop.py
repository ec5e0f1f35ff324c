"""The fast graph's back-propagation through time, by hand.

PyTensor differentiates everything outside the recurrences (output, input
products, gathers, parameter slices), but each layer's recurrence is reversed
by a scan of its own (:func:`layer_backward`) that holds only the recurrent
products of the cell's hand-written backward (``Cell.backward``, beside its
step in ``theano_rnn/cells/<name>.py``): the gate values are recomputed for
the whole sequence at once, and the recurrent matrix's gradient is one
product after the loop.  PyTensor's own scan gradient would recompute the
gates and accumulate that matrix step by step inside the loop.

Truncation
    ``"scan"`` (Theano's ``truncate_gradient=k``): the reverse scans run
    over the last ``k`` steps only, and the hoisted loss of the positions
    before ``T - k`` gets no gradient (weight 0 in the logits' gradient,
    same value), which is what Theano's truncated scan did to outputs
    computed inside the loop.
    ``"per_output"``: no recurrence to reverse (the windows are recomputed
    from stop-gradient states, :meth:`FastGraph.per_output_top`).
"""

from __future__ import annotations

import pytensor
import pytensor.tensor as pt

from theano_rnn.compat import scan

__all__ = ["grads", "layer_backward"]


def grads(fast, g, wrt):
    """Gradients of the truncated BPTT cost with respect to ``wrt``.

    Seeded with the logits' gradient ``softmax - onehot(y)`` (weighted by
    mask and truncation) written out: PyTensor would turn a derived
    log-softmax gradient into its ``Softmax`` op, which the C backend
    runs through a Python-level inner function.  PyTensor differentiates
    everything outside the recurrences (output, input products, gathers,
    parameter slices); :func:`layer_backward` goes through each layer's
    recurrence by hand, top layer first.  Truncation "per_output" needs
    no recurrence: its windows are recomputed from stop-gradient states.
    """
    logits, dlogits = g["seed"]
    known = {logits: dlogits}
    if fast.truncation == "per_output":
        return pytensor.grad(None, wrt, known_grads=known)
    T, B, N, H, layers = g["T"], g["B"], g["N"], fast.H, g["layers"]
    dh = pytensor.grad(None, [layers[-1]["cut"]], known_grads=known)[0]
    for layer in reversed(range(fast.L)):
        lay = layers[layer]
        da, dWm = layer_backward(fast, lay, dh.reshape((T, B, H)), g["mask"], T, B)
        known[lay["pre"]] = da.reshape((N, fast.blocks * H))
        known[lay["Wm"]] = dWm
        if layer > 0:
            below = layers[layer - 1]["cut"]
            dh = pytensor.grad(None, [below], known_grads={lay["pre"]: known[lay["pre"]]})[0]
    return pytensor.grad(None, wrt, known_grads=known)


def layer_backward(fast, lay, dh, mask, T, B):
    """Back-propagation through one layer's recurrence, by hand.

    ``dh`` ``(T, B, H)``: the loss's gradient with respect to the layer's
    output sequence (from the output or the layer above).  Returns the
    gradients of the merged pre-activations ``(T, B, blocks*H)`` (which
    PyTensor then carries into the input side) and of the merged
    recurrent matrix ``Wm``.  The gates are recomputed for the whole
    sequence at once, so the reverse scan holds only the recurrent
    products; ``Wm``'s gradient is one product after it.  Truncation
    "scan" runs the reverse scan over the last ``k`` steps only, as
    Theano's ``truncate_gradient`` does.
    """
    H, width = fast.H, fast.blocks * fast.H
    Wm = lay["Wm"]
    back = fast.cell.make_backward(fast.model.gate_activation, H)
    if back is None:
        raise ValueError(
            f"the {fast.cell.name} cell has no hand-written backward, which the fast "
            "graph's gradients need; use graph='faithful'"
        )
    prev = [pt.concatenate([pt.zeros_like(s[:1]), s[:-1]], axis=0) for s in lay["states"]]
    factors = back.factors(lay["pre"].reshape((T, B, width)), lay["states"], prev, Wm)
    start = pt.maximum(T - fast.k, 0) if fast.truncation == "scan" else 0
    seqs = [v[start:][::-1] for v in [dh, mask.dimshuffle(0, 1, "x")] + factors]
    nf = len(factors)

    def step(dh_t, m_t, *rest):
        return back.step(dh_t, m_t, rest[:nf], rest[nf:-1], rest[-1])

    outs, _ = scan(
        step,
        sequences=seqs,
        outputs_info=[None] + [pt.zeros((B, H), dtype=dh.dtype) for _ in range(back.carries)],
        non_sequences=[Wm],
        strict=True,
        name="fast_backward",
    )
    da = outs[0][::-1]
    if fast.truncation == "scan":
        da = pt.concatenate([pt.zeros((start, B, width), dtype=da.dtype), da], axis=0)
    flat_prev = [p.reshape((T * B, H)) for p in prev]
    return da, back.grad_Wm(da.reshape((T * B, width)), flat_prev, factors)

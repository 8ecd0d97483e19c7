"""``semcom models``: registered architectures and shipped checkpoints.

For each shipped checkpoint: architecture, C (complex latent channels), the full-keep bandwidth
ratio, the SNR range it was trained for, its model hash (the id in the radio header) and how
many complex symbols one latent channel carries for ``--size HxW``.
"""

from __future__ import annotations

from models.checkpoint import SHIPPED, CheckpointError, load_checkpoint, peek
from models.registry import available, create
from semcom.sideinfo import n_symbols as side_symbols_for


def run(args) -> int:
    h, w = (int(v) for v in args.size.lower().split("x"))
    print("architectures:")
    for name, desc in available().items():
        m = create(name)
        n = sum(p.numel() for p in m.parameters())
        print(f"  {name:<14} C={m.C:<3} down={m.down} ratio={m.ratio:.4f} "
              f"params={n / 1e6:.2f}M  {desc}")
    default_arch = peek("default")["arch"] if SHIPPED["default"].exists() else "?"
    print(f"default: the shipped checkpoint 'default' ({default_arch})")
    print(f"checkpoints (symbols per latent channel for {h}x{w}; side information per image "
          "counted separately):")
    names = [args.model] if args.model else list(SHIPPED)
    for name in names:
        try:
            model, meta = load_checkpoint(name)
        except CheckpointError as exc:
            print(f"  {name}: unavailable: {exc}")
            continue
        per = model.symbols_per_channel(h, w)
        side = side_symbols_for(model.side_bits)
        lo, hi = meta["snr_range"]
        tr = meta.get("training", {})
        print(f"  {name:<14} arch={meta['arch']} C={model.C} ratio={model.ratio:.4f} "
              f"snr={lo:g}..{hi:g} dB hash={meta['model_hash']}\n"
              f"  {'':<14} {per} symbols/channel, {per * model.C} at full keep"
              + (f" + {side} side-information symbols" if side else "") + "; "
              f"trained {tr.get('steps', '?')} steps on {tr.get('data', '?')}; {meta['path']}")
    return 0

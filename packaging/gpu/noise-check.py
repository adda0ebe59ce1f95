# Our --noise device draw of seed 42 at Wan-1.3B 480p latent shape (the raw float32 file
# SeededNoise.CudaDeviceDrawIsAFreshCudaGenerators writes to $SVGEAR_NOISE_DUMP) against
# upstream generate.py's own draw, torch.randn with torch.Generator("cuda").manual_seed(42).
import sys, numpy as np, torch
ours = np.fromfile(sys.argv[1], dtype=np.float32).reshape(16, 21, 60, 104)
g = torch.Generator(device="cuda").manual_seed(42)
theirs = torch.randn(16, 21, 60, 104, dtype=torch.float32, device="cuda", generator=g).cpu().numpy()
print("torch", torch.__version__, torch.cuda.get_device_name(), "max |ours - torch.randn| =", float(np.abs(ours - theirs).max()),
      "equal:", bool((ours == theirs).all()))

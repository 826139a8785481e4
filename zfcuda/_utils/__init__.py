"""Small helpers every layer may use: pooling and window geometry, progress bars, forward hooks by
module name, torchrun setup and atomic checkpoint writes. Nothing here imports the rest of zfcuda."""

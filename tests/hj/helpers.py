"""Shared references for the BinaryRelax tests."""

import torch


def cnn_reference(k1, c1, k2, c2, w3, b3, x):
    """One seed's CNN in torch.nn.functional: conv2d, ReLU, max_pool2d (bias and ReLU before the pool)."""
    f = torch.nn.functional
    h = f.max_pool2d(torch.relu(f.conv2d(x.reshape(-1, 1, 8, 8), k1, c1, padding=1)), 2)
    h = f.max_pool2d(torch.relu(f.conv2d(h, k2, c2, padding=1)), 2)
    return h.reshape(len(x), -1) @ w3.T + b3

"""SignBERT v1 in PyTorch, written from ../shared/spec/signbert-model.md (section "v1").

The reference the Swift runtime is checked against: the fixture script, the benchmark script and the
demo-model training all build their models from this one definition, so that every committed logit
comes from the architecture the spec describes (parameter names equal the training repo's state_dict keys).
"""
import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        # Rows 0..D-1 of qkv are q, D..2D-1 k, 2D..3D-1 v; head h takes rows h*hd..(h+1)*hd of each.
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, d)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # exact (erf) form
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        x = x + self.mlp(self.norm2(x))
        return x


class SignBERT(nn.Module):
    def __init__(self, num_joints=27, num_coords=3, num_frames=64, embed_dim=256, depth=6,
                 num_heads=8, mlp_ratio=4.0, num_classes=100, dropout=0.1):
        super().__init__()
        self.num_frames = num_frames
        self.input_proj = nn.Linear(num_joints * num_coords, embed_dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, num_frames, embed_dim))
        self.blocks = nn.ModuleList([Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Sequential(
            nn.LayerNorm(embed_dim),
            nn.Dropout(dropout),
            nn.Linear(embed_dim, embed_dim // 2),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(embed_dim // 2, num_classes),
        )
        nn.init.trunc_normal_(self.pos_embed, std=0.02)

    def forward(self, x):
        if x.dim() == 4:  # (B,T,V,C) -> (B,T,V*C), feature index v*C + c
            b, t, v, c = x.shape
            x = x.reshape(b, t, v * c)
        x = self.input_proj(x)
        x = x + self.pos_embed  # added whole: T must equal num_frames
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        x = x.mean(dim=1)
        return self.head(x)


def randomize_(model, generator, scale=1.0):
    """Fill every parameter with non-trivial values (LayerNorm weights away from 1, biases away from 0),
    so a parity test exercises every tensor, not just default initialisation."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and (name.endswith("norm1.weight") or name.endswith("norm2.weight")
                                 or name.endswith("norm.weight") or name == "head.0.weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=generator))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=generator))
            else:
                fan_in = p.shape[-1]
                p.copy_(scale * torch.randn(p.shape, generator=generator) / fan_in ** 0.5)
    return model

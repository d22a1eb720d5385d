"""SignBERT v1 and v2 in PyTorch, written from ../shared/spec/signbert-model.md (sections "v1" and "v2").

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


# ----------------------------------------------------------------------------------------------------------
# SignBERT v2 (spec, section "v2"): one token per (frame, joint), written as the training code does it
# (torch.median's lower median, the temporal table tiled V times along the token axis), quirks included.
# ----------------------------------------------------------------------------------------------------------

MEDIAPIPE_27_PARENTS = [-1, 0, 0, 1, 2, 3, 5, 6, 5, 8, 5, 10, 5, 12, 5, 14, 4, 16, 17, 16, 19, 16, 21, 16, 23, 16, 25]


class SignBERTV2(nn.Module):
    def __init__(self, num_joints=27, num_coords=3, num_frames=64, embed_dim=256, depth=6, num_heads=8,
                 mlp_ratio=4.0, num_classes=100, dropout=0.1, use_cls_token=True, normalize_skeleton=True,
                 use_velocity=True, use_bone=True):
        super().__init__()
        self.num_joints, self.num_coords, self.num_frames = num_joints, num_coords, num_frames
        self.use_cls_token, self.normalize_skeleton = use_cls_token, normalize_skeleton
        self.use_velocity, self.use_bone = use_velocity, use_bone
        in_features = num_coords * (1 + int(use_velocity) + int(use_bone))
        if use_cls_token:
            self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
            self.cls_pos_embed = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.temporal_pos_embed = nn.Parameter(torch.zeros(1, num_frames, embed_dim))
        self.joint_pos_embed = nn.Parameter(torch.zeros(1, num_joints, embed_dim))
        self.hand_type_embed = nn.Embedding(3, embed_dim)
        self.input_proj = nn.Linear(in_features, embed_dim)
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
        if num_joints == 27:
            parents = MEDIAPIPE_27_PARENTS
            hand_types = [0] * 5 + [1] * 11 + [2] * 11
        else:
            parents = [-1] * num_joints
            hand_types = [0] * num_joints
        self.parents = parents
        # For ONNX export only (no exporter has aten::median): the same lower median, by sorting.
        self.median_by_sort = False
        self.register_buffer("hand_types", torch.tensor(hand_types, dtype=torch.long), persistent=False)

    def _normalize(self, x):
        # x: (B,T,V,C). Centre on joint 0 (every channel), then scale by the shoulder distance.
        x = x - x[:, :, 0:1, :]
        if self.num_joints > 2:
            dist = torch.norm(x[:, :, 1, :2] - x[:, :, 2, :2], dim=-1).clamp(min=1e-6)  # (B,T)
            if self.median_by_sort:
                scale = torch.sort(dist, dim=1).values[:, (dist.shape[1] - 1) // 2]
            else:
                scale = torch.median(dist, dim=1).values  # lower median for even T
            x = x / (1.2 * scale).view(-1, 1, 1, 1)
        return x

    def _features(self, x):
        feats = [x]
        if self.use_velocity:
            vel = torch.zeros_like(x)
            vel[:, 1:] = x[:, 1:] - x[:, :-1]
            feats.append(vel)
        if self.use_bone:
            bone = torch.zeros_like(x)
            for j, p in enumerate(self.parents):
                if p >= 0:
                    bone[:, :, j] = x[:, :, j] - x[:, :, p]
            feats.append(bone)
        return torch.cat(feats, dim=-1)

    def forward(self, x):
        b, t, v, c = x.shape
        assert v == self.num_joints and t <= self.num_frames
        if self.normalize_skeleton:
            x = self._normalize(x)
        x = self._features(x)                      # (B,T,V,C')
        x = x.reshape(b, t * v, -1)                # token n = t*V + v
        x = self.input_proj(x)
        temporal = self.temporal_pos_embed[:, :t].repeat(1, v, 1)   # (1, T*V, D): row n gets n mod T
        joint = self.joint_pos_embed.repeat(1, t, 1)                 # row n gets n mod V
        hand = self.hand_type_embed(self.hand_types).unsqueeze(0).repeat(1, t, 1)
        x = x + temporal + joint + hand
        if self.use_cls_token:
            cls = (self.cls_token + self.cls_pos_embed).expand(b, -1, -1)
            x = torch.cat([cls, x], dim=1)
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        x = x[:, 0] if self.use_cls_token else x.mean(dim=1)
        return self.head(x)

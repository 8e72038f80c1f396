"""Score many prompts that share prefixes in one forward pass: the prompts become paths of a token trie.

A PRM asks the same question about every step prefix of every candidate, so its prompts repeat the chat template,
the question and the earlier steps. Packing them as a trie (each shared token stored once) and giving each token an
attention mask over its own ancestors and a position id equal to its depth computes, for every prompt's last token,
exactly the hidden state the prompt alone would give (a causal model sees only a token's prefix, and the mask is that
prefix). On ``arith`` samples this feeds the model 4-5× fewer tokens than one row per prompt.

The trie is built from each prompt's *own* tokenisation, so nothing depends on how pieces would tokenise apart.
Models with sliding-window layers get the full ancestor mask on every layer, which is the same as long as a prompt is
shorter than the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel


@dataclass
class PrefixTree:
    """Token sequences merged on their common prefixes, nodes in insertion order (a parent precedes its children).

    Attributes:
        tokens: the token of each node.
        parents: each node's parent index (-1 for a root).
        depths: each node's depth (its position id).
        ends: per inserted sequence, the index of its last node.
    """

    tokens: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    _children: list[dict[int, int]] = field(default_factory=lambda: [{}], repr=False)  # [0] holds the roots

    def __len__(self) -> int:
        return len(self.tokens)

    def new_nodes(self, seq: Sequence[int]) -> int:
        """How many nodes inserting `seq` would add."""
        level, k = self._children[0], 0
        while k < len(seq) and seq[k] in level:
            level = self._children[level[seq[k]] + 1]
            k += 1
        return len(seq) - k

    def add(self, seq: Sequence[int]) -> int:
        """Insert a non-empty sequence; returns its index in `ends`."""
        if not seq:
            raise ValueError("cannot insert an empty token sequence")
        node = -1
        for token in seq:
            level = self._children[node + 1]
            if token not in level:
                level[token] = len(self.tokens)
                self.tokens.append(token)
                self.parents.append(node)
                self.depths.append(0 if node < 0 else self.depths[node] + 1)
                self._children.append({})
            node = level[token]
        self.ends.append(node)
        return len(self.ends) - 1


def pack(seqs: Sequence[Sequence[int]], max_nodes: int) -> list[tuple[PrefixTree, list[int]]]:
    """Greedily pack sequences, in order, into tries of at most `max_nodes` nodes (a longer sequence gets its own).

    Returns:
        ``(tree, indices)`` pairs: `indices[j]` is the position in `seqs` of the tree's j-th sequence.
    """
    out: list[tuple[PrefixTree, list[int]]] = []
    tree, indices = PrefixTree(), []
    for i, seq in enumerate(seqs):
        if len(tree) and len(tree) + tree.new_nodes(seq) > max_nodes:
            out.append((tree, indices))
            tree, indices = PrefixTree(), []
        tree.add(seq)
        indices.append(i)
    if len(tree):
        out.append((tree, indices))
    return out


def last_hidden_states(model: PreTrainedModel, trees: Sequence[PrefixTree], *, pad_id: int,
                       batch_tokens: int = 4096) -> list[torch.Tensor]:
    """The final hidden state at every sequence end of every tree (one ``(len(tree.ends), hidden)`` tensor per tree).

    Trees are batched shortest first, padded to the longest in the batch, at most `batch_tokens` (rows × length) per
    forward pass; padding tokens attend only to themselves.
    """
    import torch

    order = sorted(range(len(trees)), key=lambda i: len(trees[i]))
    out: list[torch.Tensor | None] = [None] * len(trees)
    device = model.device
    dtype = next(model.parameters()).dtype
    lo = 0
    while lo < len(order):
        hi = lo + 1
        while hi < len(order) and (hi - lo + 1) * len(trees[order[hi]]) <= batch_tokens:
            hi += 1
        batch = [trees[i] for i in order[lo:hi]]
        length = len(batch[-1])
        ids = torch.full((len(batch), length), pad_id, dtype=torch.long)
        positions = torch.zeros((len(batch), length), dtype=torch.long)
        allowed = torch.eye(length, dtype=torch.bool).repeat(len(batch), 1, 1)
        for b, tree in enumerate(batch):
            ids[b, : len(tree)] = torch.tensor(tree.tokens)
            positions[b, : len(tree)] = torch.tensor(tree.depths)
            rows = allowed[b]
            for node, parent in enumerate(tree.parents):  # parents precede children: copy the parent's row
                if parent >= 0:
                    rows[node] |= rows[parent]
        mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)[:, None]
        with torch.inference_mode():
            hidden = model.base_model(input_ids=ids.to(device), position_ids=positions.to(device),
                                      attention_mask=mask.to(device)).last_hidden_state
        for b, i in enumerate(order[lo:hi]):
            out[i] = hidden[b, trees[i].ends]
        lo = hi
    return out  # type: ignore[return-value]


def token_logits(model: PreTrainedModel, hidden: torch.Tensor, token_ids: Sequence[int]) -> torch.Tensor:
    """The output logits of just `token_ids` from final hidden states (skips the full-vocabulary projection)."""
    import torch

    head = model.get_output_embeddings()
    logits = hidden @ head.weight[list(token_ids)].T
    if getattr(head, "bias", None) is not None:
        logits = logits + head.bias[list(token_ids)]
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits.float()


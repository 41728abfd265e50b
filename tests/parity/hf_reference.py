"""The Hugging Face reference of the parity test, and the exact rules that map
our offsets onto Hugging Face's.

reference(): RoBERTa's fast tokenizer assembled from `tokenizers` the way
transformers' RobertaTokenizerFast assembles it (BPE from vocab.json and
merges.txt, ByteLevel pre-tokenizer and decoder without a prefix space,
RobertaProcessing, <s> <pad> </s> <unk> special, <mask> special with lstrip).

reference(our_classes=True): the same, except that the pre-tokenizer's
\\p{L} and \\p{N} are narrowed to our utf8proc's (unicode_classes.py). It
differs from reference() only on texts holding a code point of
unicode_classes.DIFFERING.

round_out() and trim_offsets() are the offset rules (see
test_tokenizers_parity.py's docstring).
"""

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors

import unicode_classes

# Rust's char::is_whitespace (Unicode White_Space), which `tokenizers` uses to
# trim offsets and for lstrip. Python's str.isspace() is wider (U+001C..001F).
RUST_WHITE_SPACE = frozenset("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
                             "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f"
                             "\u3000")
# What trim_offsets strips from a token's ends: "Ġ" (the byte-level
# alphabet's character for the byte 0x20) and White_Space.
_TRIMMED = "\u0120" + "".join(sorted(RUST_WHITE_SPACE))
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>")


def reference(vocab_json, merges_txt, trim_offsets=True, our_classes=False):
    """A fresh `tokenizers.Tokenizer` configured as RoBERTa's fast tokenizer."""
    tokenizer = Tokenizer(models.BPE.from_file(vocab_json, merges_txt))
    if our_classes:
        pattern = unicode_classes.gpt2_pattern_with_our_classes()
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    else:
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.RobertaProcessing(
        ("</s>", 2), ("<s>", 0), trim_offsets=trim_offsets, add_prefix_space=False)
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in SPECIAL_TOKENS] +
                                 [AddedToken("<mask>", lstrip=True, special=True)])
    return tokenizer


def char_starts(text):
    """Byte offset of each character of `text`, then len(text.encode())."""
    if text.isascii():
        return range(len(text) + 1)
    data = text.encode()
    return [i for i, byte in enumerate(data) if byte & 0xC0 != 0x80] + [len(data)]


def chars_to_bytes(starts, offsets):
    """Hugging Face's character offsets as byte offsets."""
    if isinstance(starts, range):
        return offsets
    return [(starts[s], starts[e]) for s, e in offsets]


def round_out(starts, offsets):
    """Byte offsets widened to whole characters: a token that holds only some
    of a character's bytes (byte-level BPE splits emoji and CJK) covers the
    whole character, as Hugging Face's character offsets must."""
    if isinstance(starts, range):  # ASCII: every byte is a character
        return list(offsets)
    boundaries = set(starts)
    out = []
    for s, e in offsets:
        while s not in boundaries:
            s -= 1
        while e not in boundaries:
            e += 1
        out.append((s, e))
    return out


def trim_offsets(starts, tokens, offsets):
    """`tokenizers`' ByteLevel trim_offsets (process_offsets, add_prefix_space
    false) on byte offsets of whole characters: each token's start moves past
    its leading "Ġ" or White_Space characters (never past its end), and its end
    back over its trailing ones (never before its start). `tokens` are the
    token strings Hugging Face shows (an added token shows the text it covers,
    " <mask>")."""
    char_of = starts if isinstance(starts, range) else {b: i for i, b in enumerate(starts)}
    out = []
    for token, (s, e) in zip(tokens, offsets):
        lead = len(token) - len(token.lstrip(_TRIMMED))
        trail = len(token) - len(token.rstrip(_TRIMMED))
        if not lead and not trail:
            out.append((s, e))
            continue
        cs, ce = char_of[s], char_of[e]
        if lead:
            cs = min(cs + lead, ce)
        if trail and ce >= trail:
            ce = max(ce - trail, cs)
        out.append((starts[cs], starts[ce]))
    return out

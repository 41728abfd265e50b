"""securebert-load's generated texts (client/load/text_generator.cc), reproduced in Python.

securebert-load, left without --data, cycles 1024 texts of CyberTextGenerator (seed 1,
8-256 estimated tokens). The ghz comparison (harness/ghz.py) must send ghz the very texts
securebert-load sends, so the harness writes them to files both tools read: a JSONL file
for `securebert-load --data` and a JSON array of EmbedRequest messages for `ghz -D`. This
module replays the generator: std::mt19937_64 drawn with `rng() % n` (the generator's own
arithmetic, no std:: distributions), the same word lists and templates.
bench/tests/test_mixes.py pins texts that the C++ printed.
"""

from typing import List

_MASK64 = (1 << 64) - 1
MASK_TEXT = "<mask>"

# The word lists of text_generator.cc, in its order.
ACTORS = ["APT29", "Lazarus Group", "FIN7", "a ransomware affiliate", "the threat actor",
          "an initial access broker", "Sandworm", "a financially motivated group"]
MALWARE = ["Emotet", "TrickBot", "Cobalt Strike beacon", "QakBot", "LockBit",
           "a custom loader", "Mimikatz", "a PowerShell stager"]
CVES = ["CVE-2021-44228", "CVE-2023-23397", "CVE-2017-0144", "CVE-2022-30190",
        "CVE-2019-19781", "CVE-2020-1472"]
PRODUCTS = ["Apache Log4j", "Microsoft Exchange", "the VPN appliance", "Citrix ADC",
            "the domain controller", "an unpatched web server", "Outlook", "the SMB service"]
TECHNIQUES = ["spearphishing attachments", "credential dumping", "DLL side-loading",
              "scheduled task persistence", "lateral movement over SMB", "process injection",
              "living off the land binaries", "pass-the-hash"]
GOALS = ["gain remote code execution", "escalate privileges", "exfiltrate sensitive data",
         "deploy ransomware", "establish persistence", "harvest credentials",
         "evade endpoint detection"]
DEFENCES = ["Security teams should monitor", "Defenders can detect this by reviewing",
            "Incident responders recommend auditing", "SOC analysts triaged alerts from"]
SOURCES = ["Windows event logs", "EDR telemetry", "DNS queries", "proxy logs",
           "NetFlow records", "Sysmon process creation events"]
INDICATORS = ["malicious domains", "command and control servers", "file hashes",
              "phishing URLs", "suspicious IP addresses"]


class Mt19937_64:  # pylint: disable=invalid-name
    """std::mt19937_64 with the standard's integer seeding."""

    _N, _M = 312, 156

    def __init__(self, seed: int):
        state = [seed & _MASK64]
        for i in range(1, self._N):
            prev = state[-1]
            state.append((6364136223846793005 * (prev ^ (prev >> 62)) + i) & _MASK64)
        self._state = state
        self._index = self._N

    def _twist(self) -> None:
        s, n, m = self._state, self._N, self._M
        for i in range(n):
            x = (s[i] & 0xFFFFFFFF80000000) | (s[(i + 1) % n] & 0x7FFFFFFF)
            s[i] = s[(i + m) % n] ^ (x >> 1) ^ (0xB5026F5AA96619E9 if x & 1 else 0)
        self._index = 0

    def __call__(self) -> int:
        if self._index >= self._N:
            self._twist()
        x = self._state[self._index]
        self._index += 1
        x ^= (x >> 29) & 0x5555555555555555
        x ^= (x << 17) & 0x71D67FFFEDA60000
        x ^= (x << 37) & 0xFFF7EEE000000000
        return x ^ (x >> 43)


def estimate_word_tokens(word: str) -> int:
    """CyberTextGenerator::EstimateWordTokens."""
    if word == MASK_TEXT:
        return 1
    letters = sum(1 for c in word if c.isascii() and c.isalpha())
    others = len(word.encode("utf-8")) - letters
    return max(1, (letters + 7) // 8 + (others + 1) // 2)


class CyberTextGenerator:
    """The C++ generator: same options, same seed, same texts."""

    def __init__(self, min_tokens: int = 8, max_tokens: int = 256, seed: int = 1,
                 insert_mask: bool = False):
        self.min_tokens, self.max_tokens, self.insert_mask = min_tokens, max_tokens, insert_mask
        self._rng = Mt19937_64(seed)

    def _pick(self, n: int) -> int:
        return self._rng() % n

    def _choice(self, words: List[str]) -> str:
        return words[self._pick(len(words))]

    def _sentence(self) -> List[str]:
        # GCC evaluates the arguments of the C++'s StrCat calls right to left, so the picks
        # of one sentence are drawn from its last slot to its first.
        kind = self._pick(4)
        c = self._choice
        if kind == 0:
            goal, product, cve, actor = c(GOALS), c(PRODUCTS), c(CVES), c(ACTORS)
            sentence = f"{actor} exploited {cve} in {product} to {goal}."
        elif kind == 1:
            indicator, technique, malware = c(INDICATORS), c(TECHNIQUES), c(MALWARE)
            sentence = (f"The {malware} sample relies on {technique} and beacons to "
                        f"{indicator} over HTTPS.")
        elif kind == 2:
            technique, source, defence = c(TECHNIQUES), c(SOURCES), c(DEFENCES)
            sentence = f"{defence} {source} for signs of {technique}."
        else:
            goal, malware, actor = c(GOALS), c(MALWARE), c(ACTORS)
            indicator, count = c(INDICATORS), 2 + self._pick(40)
            sentence = (f"Analysts linked {count} {indicator} to {actor}, who used "
                        f"{malware} to {goal}.")
        return sentence.split()

    def next(self) -> str:
        span = max(self.max_tokens - self.min_tokens, 0)
        target = self.min_tokens + self._pick(span + 1)
        words: List[str] = []
        tokens = 2  # <s> and </s>
        full = False
        while not full:
            for word in self._sentence():
                cost = estimate_word_tokens(word)
                full = bool(words) and tokens + cost > target  # the first word always fits
                if full:
                    break
                tokens += cost
                words.append(word)
        if self.insert_mask:
            words[self._pick(len(words))] = MASK_TEXT
        return " ".join(words)


def generated_texts(count: int = 1024, min_tokens: int = 8, max_tokens: int = 256,
                    seed: int = 1) -> List[str]:
    """What securebert-load cycles by default (--generated_texts, --min_tokens, ...)."""
    generator = CyberTextGenerator(min_tokens, max_tokens, seed)
    return [generator.next() for _ in range(max(count, 1))]

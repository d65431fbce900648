"""Secrets of every kind the redactor promises to catch, as (phrase, sensitive part) pairs: fixed samples for
the per-finding tests and hypothesis strategies for the property test. The sensitive part is what must never
reach a file or stdout; the phrase is how it appears in real text (a header, a flag, a URL, an assignment)."""

from __future__ import annotations

import json
import string

from hypothesis import strategies as st

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
# Characters people put in passwords that are not whitespace or quotes (shell and env values).
PW = ALNUM + "&,;!%^*()[]{}+=:@/.-_~#?|<>$"
URLSAFE = ALNUM + "-._~!$&'()*+,;=%"


def _unlikely(token: str) -> bool:
    """Varied enough (8+ distinct characters, digits and letters both) never to stand in our own output by
    chance: no event name, field name, id or timestamp of ours can match it."""
    return len(set(token)) >= 8 and sum(c.isdigit() for c in token) >= 2 and sum(c.isalpha() for c in token) >= 2


def _tok(alphabet: str, size: int, extra: int = 12) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size + extra).filter(_unlikely)


def _pw(alphabet: str = PW) -> st.SearchStrategy[str]:
    return _tok(alphabet, 12).filter(lambda t: t[0] not in "-" and "\\" not in t)


KINDS: dict[str, st.SearchStrategy[tuple[str, str]]] = {
    "anthropic": _tok(ALNUM + "_-", 40).map(lambda t: (f"sk-ant-api03-{t}", t)),
    "openai": _tok(ALNUM, 40).map(lambda t: (f"sk-proj-{t}", t)),
    "aws": st.text(string.ascii_uppercase + string.digits, min_size=16, max_size=16)
    .filter(_unlikely)
    .map(lambda t: (f"AKIA{t}", t)),
    "github": _tok(ALNUM, 36, 0).map(lambda t: (f"ghp_{t}", t)),
    "github_pat": _tok(ALNUM + "_", 60).map(lambda t: (f"github_pat_{t}", t)),
    "slack": _tok(ALNUM, 24).map(lambda t: (f"xoxb-1234-{t}", t)),
    "bearer": _tok(ALNUM + "._-", 24).map(lambda t: (f"Authorization: Bearer {t}9", t)),
    "password_flag": _pw().map(lambda t: (f"--password {t}", t)),
    "password_assign": _pw().map(lambda t: (f"DB_PASSWORD={t}", t)),
    "password_amp": _pw(ALNUM).map(lambda t: (f"PASSWORD=a&{t}", t)),
    "pgpassword_quotes": _pw(ALNUM).map(lambda t: (f'PGPASSWORD=""{t}', t)),
    "pem": _tok(B64, 64).map(lambda t: (f"-----BEGIN RSA PRIVATE KEY-----\n{t}\n-----END RSA PRIVATE KEY-----", t)),
    "url_credentials": _pw(ALNUM + "-._~!$&*+,;=").map(lambda t: (f"https://deploy:{t}@git.example.com/x.git", t)),
    "redis_url": _pw(ALNUM).map(lambda t: (f"redis://:{t}@cache.internal:6379/0", t)),
    "stripe_live": _tok(ALNUM, 24).map(lambda t: (f"sk_live_{t}", t)),
    "stripe_restricted": _tok(ALNUM, 24).map(lambda t: (f"rk_live_{t}", t)),
    "jwt": st.tuples(_tok(ALNUM + "_-", 20), _tok(ALNUM + "_-", 30)).map(
        lambda p: (f"eyJhbGciOiJIUzI1NiJ9.eyJ{p[0]}.{p[1]}", p[1])
    ),
    "google": _tok(ALNUM + "_-", 35, 0).map(lambda t: (f"AIza{t}", t)),
    "npm": _tok(ALNUM, 36, 0).map(lambda t: (f"npm_{t}", t)),
    "gitlab": _tok(ALNUM + "_-", 20).map(lambda t: (f"glpat-{t}", t)),
    "huggingface": _tok(ALNUM, 34, 0).map(lambda t: (f"hf_{t}", t)),
    "azure_account_key": _tok(B64, 40).map(
        lambda t: (
            f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={t}==;EndpointSuffix=core.windows.net",
            t,
        )
    ),
    "azure_sas": _tok(ALNUM + "%", 30).map(
        lambda t: (f"https://acct.blob.core.windows.net/c/f?sv=2022-11-02&ss=b&sig={t}&se=2030-01-01", t)
    ),
    "curl_user": _pw(ALNUM + "!%^*()+=.-_~").map(lambda t: (f"curl -u admin:{t} https://api.example.com", t)),
    "mysql": _pw(ALNUM + "!%^*()+=.-_~").map(lambda t: (f"mysql -h db -uroot -p{t} app", t)),
}

# Text around a phrase as it reaches us: inside a shell command, an environment dump, a file, a URL list,
# and each of those again as JSON text (escapes, and the phrase right after a "\n" escape).
SURROUNDINGS = (
    "{}",
    "echo start && {} && echo done",
    "export A=1\n{}\nexport B=2",
    "PATH=/usr/bin\nHOME=/home/dev\n{}\nLANG=C.UTF-8\n",
    "# config\n{}\n# end",
    "see {} for details",
)


@st.composite
def secret_texts(draw: st.DrawFn) -> tuple[str, str, str]:
    """(kind, text holding the secret in realistic surroundings, the sensitive part)."""
    kind = draw(st.sampled_from(sorted(KINDS)))
    phrase, sensitive = draw(KINDS[kind])
    text = draw(st.sampled_from(SURROUNDINGS)).format(phrase)
    if draw(st.booleans()):
        text = json.dumps({"output": "line one\n" + text, "n": 1})  # raw JSON text, escapes included
    return kind, text, sensitive

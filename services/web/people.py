"""The demo people of the development sign-in (WEB_DEV_SIGNIN=true, `make run`).

Each is a token's claims: who the development sign-in page lets a newcomer be. They are
the people the README's examples use (the sample applicant, the counter and the health
office of Furong district, where the samples apply), so the screens and the curl examples
meet the same data. Never offered unless WEB_DEV_SIGNIN is set: a real deployment signs in
through its identity provider (OpenID Connect)."""

from onestop.client import ENTERPRISE_ID, PERSON_ID

# key -> (role, claims); the key is what the page posts
DEMO_PEOPLE = {
    "applicant": ("applicant", {"sub": PERSON_ID, "name": "李华"}),
    "applicant-2": ("applicant", {"sub": "430102198805052345", "name": "王芳"}),
    "enterprise": ("applicant", {"sub": ENTERPRISE_ID, "name": "湖南示例科技有限公司"}),
    "clerk": ("clerk", {"sub": "clerk-0001", "region": "430102", "name": "芙蓉区政务服务中心窗口"}),
    "officer": (
        "officer",
        {"sub": "officer-0001", "office": "health.430102", "name": "芙蓉区卫生健康局审批员"},
    ),
    "supervisor": (
        "supervisor",
        {"sub": "supervisor-0001", "region": "430000", "name": "省政务服务监督员"},
    ),
}


def listing():
    """What the sign-in page shows: key, role, name, and the scope a staff member has."""
    return [
        {
            "key": key,
            "role": role,
            "name": claims["name"],
            **{k: claims[k] for k in ("region", "office") if k in claims},
        }
        for key, (role, claims) in DEMO_PEOPLE.items()
    ]

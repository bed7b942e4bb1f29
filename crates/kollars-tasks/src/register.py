# kollars ks-register: kolla's service-ks-register with openstacksdk, in kolla_toolbox.
#
# Run as `python3 -c <this program>` by kollars-tasks (register.rs), which explains why it is
# shaped this way. The request arrives as JSON on stdin (it holds the admin's and the users'
# passwords; this program's text holds none). Exit codes: 0 with a JSON answer on stdout
# (what was made, or in check mode what is missing), 1 with one line on stderr (never a
# password), 99 when this interpreter has no openstacksdk (the caller tries the next one).
import json
import random
import sys
import time

try:
    import openstack
    from keystoneauth1 import exceptions as ksa_exceptions
    from keystoneauth1 import session as ksa_session
    from keystoneauth1.identity import generic as ksa_generic
except ImportError:
    sys.exit(99)

KINDS = (
    "services",
    "endpoints",
    "domains",
    "projects",
    "users",
    "passwords",
    "roles",
    "assignments",
    "aggregates",
)


def transient(error):
    """Whether keystone may answer a moment later: no connection yet, a 5xx (haproxy's 503
    while keystone starts), or the SDK's wrapping of such a failure while authenticating."""
    for attr in ("status_code", "http_status"):
        code = getattr(error, attr, None)
        if isinstance(code, int):
            return code >= 500
    if isinstance(error, (ksa_exceptions.ConnectionError, ksa_exceptions.DiscoveryFailure)):
        return True
    return type(error) is openstack.exceptions.SDKException


def conflict(error):
    """Whether keystone refused a create because the thing now exists: another registration
    (two projects' at once both making the `service` project, say) made it first. Running the
    whole registration again finds it and goes on."""
    for attr in ("status_code", "http_status"):
        if getattr(error, attr, None) == 409:
            return True
    return isinstance(error, openstack.exceptions.ConflictException)


def verify(req):
    return req["cacert"] if req.get("cacert") else True


def connect(req):
    auth = req["auth"]
    extra = {"cacert": req["cacert"]} if req.get("cacert") else {}
    return openstack.connect(
        auth_type="password",
        auth={
            "auth_url": auth["auth_url"],
            "username": auth["username"],
            "password": auth["password"],
            "project_name": auth["project_name"],
            "user_domain_name": auth["user_domain_name"],
            "project_domain_name": auth["project_domain_name"],
        },
        region_name=req["region"],
        interface=req["interface"],
        load_yaml_config=False,
        load_envvars=False,
        **extra
    )


def password_works(req, domain_id, name, password):
    """Whether user `name` logs in with `password` (an unscoped token: roles do not matter)."""
    plugin = ksa_generic.Password(
        auth_url=req["auth"]["auth_url"],
        username=name,
        password=password,
        user_domain_id=domain_id,
    )
    sess = ksa_session.Session(auth=plugin, verify=verify(req))
    try:
        sess.get_token()
        return True
    except ksa_exceptions.Unauthorized:
        return False


class Made(dict):
    """What was made (or, in check mode, is missing), per kind; kept across the attempts
    after a conflict, each thing once. A thing is added once its create or update returned:
    one that keystone refused (a 409: another registration made it first) was not made by
    this one."""

    def __init__(self):
        super().__init__((kind, []) for kind in KINDS)

    def add(self, kind, label):
        if label not in self[kind]:
            self[kind].append(label)


def register(conn, req, apply, made):
    """Makes (apply) or lists (check) what the request's services, users and roles lack."""
    ident = conn.identity
    region = req["region"]
    domain = ident.find_domain(req["domain"], ignore_missing=False)

    for svc in req["services"]:
        found = [
            s for s in ident.services() if s.name == svc["name"] and s.type == svc["type"]
        ]
        service = found[0] if found else None
        if service is None:
            if apply:
                service = ident.create_service(
                    name=svc["name"],
                    type=svc["type"],
                    description=svc["description"],
                    is_enabled=True,
                )
            made.add("services", svc["name"])
        elif (service.description or "") != svc["description"]:
            if apply:
                service = ident.update_service(service, description=svc["description"])
            made.add("services", svc["name"])
        for ep in svc["endpoints"]:
            label = "%s %s" % (svc["name"], ep["interface"])
            existing = []
            if service is not None:
                existing = list(
                    ident.endpoints(
                        service_id=service.id, interface=ep["interface"], region_id=region
                    )
                )
            if not existing:
                if apply:
                    ident.create_endpoint(
                        service_id=service.id,
                        interface=ep["interface"],
                        url=ep["url"],
                        region_id=region,
                        is_enabled=True,
                    )
                made.add("endpoints", label)
            elif existing[0].url != ep["url"]:
                if apply:
                    ident.update_endpoint(existing[0], url=ep["url"])
                made.add("endpoints", label)

    projects = {}
    for name in dict.fromkeys(u["project"] for u in req["users"] + req["user_roles"]):
        project = ident.find_project(name, domain_id=domain.id)
        if project is None and name in [u["project"] for u in req["users"]]:
            if apply:
                project = ident.create_project(name=name, domain_id=domain.id)
            made.add("projects", name)
        projects[name] = project

    users = {}
    for u in req["users"]:
        user = ident.find_user(u["user"], domain_id=domain.id)
        project = projects.get(u["project"])
        project_id = project.id if project is not None else None
        if user is None:
            if apply:
                user = ident.create_user(
                    name=u["user"],
                    password=u["password"],
                    domain_id=domain.id,
                    default_project_id=project_id,
                    is_enabled=True,
                )
            made.add("users", u["user"])
        else:
            if project_id is not None and user.default_project_id != project_id:
                if apply:
                    user = ident.update_user(user, default_project_id=project_id)
                made.add("users", u["user"])
            if req["update_password"] and not password_works(
                req, domain.id, u["user"], u["password"]
            ):
                if apply:
                    user = ident.update_user(user, password=u["password"])
                made.add("passwords", u["user"])
        users[u["user"]] = user

    wanted_roles = [u["role"] for u in req["users"]] + req["roles"]
    wanted_roles += [r["role"] for r in req["user_roles"]]
    wanted_roles += [u["role"] for u in req.get("domain_users", [])]
    roles = {}
    for name in dict.fromkeys(wanted_roles):
        role = ident.find_role(name)
        if role is None:
            if apply:
                role = ident.create_role(name=name)
            made.add("roles", name)
        roles[name] = role

    for a in req["users"] + req["user_roles"]:
        label = "%s %s %s" % (a["user"], a["project"], a["role"])
        user = users.get(a["user"]) or ident.find_user(a["user"], domain_id=domain.id)
        project = projects.get(a["project"])
        role = roles.get(a["role"])
        if user is None or project is None or role is None:
            if not apply:
                made.add("assignments", label)
                continue
            missing = [
                what
                for what, thing in (("user", user), ("project", project), ("role", role))
                if thing is None
            ]
            raise RuntimeError("cannot grant %s: no %s" % (label, " or ".join(missing)))
        held = [r.id for r in ident.role_assignments_filter(project=project, user=user)]
        if role.id not in held:
            if apply:
                ident.assign_project_role_to_user(project, user, role)
            made.add("assignments", label)

    register_domains(ident, req, apply, made, roles)
    register_aggregates(conn, req, apply, made)
    return made


def register_aggregates(conn, req, apply, made):
    """The nova host aggregates the project needs (blazar's pool of free hosts), by name, made
    when missing: kolla's os_nova_host_aggregate with only a name."""
    wanted = req.get("aggregates", [])
    if not wanted:
        return
    existing = {a.name for a in conn.compute.aggregates()}
    for name in wanted:
        if name not in existing:
            if apply:
                conn.compute.create_aggregate(name=name)
            made.add("aggregates", name)


def register_domains(ident, req, apply, made, roles):
    """The request's own domains (heat's stack user domain), then the users that live in one
    of them, each holding its role on that domain (heat's domain admin)."""
    domains = {}
    for d in req.get("domains", []):
        domain = ident.find_domain(d["name"])
        if domain is None:
            if apply:
                domain = ident.create_domain(
                    name=d["name"], description=d["description"], is_enabled=True
                )
            made.add("domains", d["name"])
        elif (domain.description or "") != d["description"]:
            if apply:
                domain = ident.update_domain(domain, description=d["description"])
            made.add("domains", d["name"])
        domains[d["name"]] = domain

    for u in req.get("domain_users", []):
        label = "%s@%s" % (u["user"], u["domain"])
        domain = domains.get(u["domain"]) or ident.find_domain(u["domain"])
        if domain is None and apply:
            raise RuntimeError("cannot make user %s: no domain %s" % (label, u["domain"]))
        user = None
        if domain is not None:
            user = ident.find_user(u["user"], domain_id=domain.id)
        if user is None:
            if apply:
                # magnum's trustee admin has none, as kolla makes it
                described = {"description": u["description"]} if u["description"] else {}
                user = ident.create_user(
                    name=u["user"],
                    password=u["password"],
                    domain_id=domain.id,
                    is_enabled=True,
                    **described
                )
            made.add("users", label)
        elif req["update_password"] and not password_works(
            req, domain.id, u["user"], u["password"]
        ):
            if apply:
                user = ident.update_user(user, password=u["password"])
            made.add("passwords", label)
        assignment = "%s domain %s %s" % (label, u["domain"], u["role"])
        role = roles.get(u["role"])
        if user is None or role is None:
            if apply:
                raise RuntimeError("cannot grant %s: no role" % assignment)
            made.add("assignments", assignment)
            continue
        held = [r.id for r in ident.role_assignments_filter(domain=domain, user=user)]
        if role.id not in held:
            if apply:
                ident.assign_domain_role_to_user(domain, user, role)
            made.add("assignments", assignment)


def main():
    req = json.load(sys.stdin)
    secrets = [req["auth"]["password"]] + [u["password"] for u in req["users"]]
    secrets += [u["password"] for u in req.get("domain_users", [])]
    apply = req["mode"] == "apply"
    made = Made()
    attempt = 0
    while True:
        attempt += 1
        try:
            register(connect(req), req, apply, made)
            break
        except Exception as error:  # one line, secrets masked, after kolla's retries
            if transient(error) and attempt <= req["retries"]:
                time.sleep(req["delay"])
                continue
            if conflict(error) and attempt <= req["retries"]:
                time.sleep(0.2 + random.random())
                continue
            message = "%s: %s" % (type(error).__name__, error)
            for secret in secrets:
                if secret:
                    message = message.replace(secret, "********")
            print(" ".join(message.split()), file=sys.stderr)
            sys.exit(1)
    json.dump(made, sys.stdout)
    sys.stdout.write("\n")


main()

"""Removes each authority check of issue 13 in turn and runs tests/authority.rs: every
mutation must turn the suite red. Run it on a scratch checkout (it edits files and puts
them back):  git worktree add /tmp/mut HEAD && python3 scripts/mutants-authority.py /tmp/mut
"""
import subprocess, sys, pathlib
root = pathlib.Path(sys.argv[1])
M = [
 ("authority check", "src/custodian/gate.rs", "if !authority_ok {", "if false && !authority_ok {"),
 ("consent in force at use", "src/ledger/state.rs", "if let Some(sc) = needed {", "if let Some(sc) = needed.filter(|_| false) {"),
 ("session authority", "src/custodian/consent.rs", "if !self.inner.tokens.accepts(session.authority()) {", "if false {"),
 ("expiry by the custodian clock", "src/custodian/gate.rs", "if now >= info.expires_at {", "if false && now >= info.expires_at {"),
 ("sharing choice on every path", "src/ledger/state.rs", "if !shared {", "if false && !shared {"),
 ("lawful request at use", "src/ledger/state.rs", "if p == PurposeId::LegalCompliance", "if false && p == PurposeId::LegalCompliance"),
 ("lawful request proof at issue", "src/custodian/grants.rs", "&& request.is_none() {", "&& request.is_none() && false {"),
 ("meaningful lawful request", "src/disclosure.rs", "if meaningful < min ||", "if false ||"),
 ("NDA on file at use", "src/custodian/gate.rs", "if !on_file.is_some_and(", "if false && !on_file.is_some_and("),
 ("grant capped at session end", "src/custodian/grants.rs", "expires_at = expires_at.min(cap);", "let _ = cap;"),
 ("consent before collection", "src/custodian/write.rs", "                if self.inner.state.active_consent(subject, scope).is_none() {\n                    return", "                if false {\n                    return"),
 ("refusals audited", "src/custodian/gate.rs", "let _ = self.commit(None, &[ev]).await;", "let _ = ev;"),
 ("lookup grant checked", "src/custodian/write.rs", "grant.check(self, now)?;", "let _ = grant;"),
 ("other subject's record not visible", "src/custodian/read.rs", "if row.sealed.subject != grant.subject() {", "if false {"),
 ("reserved host kind names", "src/custodian/write.rs", "KindRef::Host(name) if Category::from_name(name).is_some()", "KindRef::Host(name) if false && Category::from_name(name).is_some()"),
 ("host purpose name cap", "src/custodian/grants.rs", "if name.len() > MAX_HOST_PURPOSE || name.is_empty() {", "if false {"),
 ("legal minimum never dropped", "src/retention.rs", "                .after(m.collected_at)\n                .unwrap_or(DateTime::<Utc>::MAX_UTC)", "                .after(m.collected_at)\n                .unwrap_or(m.collected_at)"),
 ("erase report computed first", "src/custodian/rights.rs", ".ok_or(CustodianError::TimeOutOfRange)?;\n        if !self.inner.state.is_erased(subject) {", ".unwrap_or(now);\n        if !self.inner.state.is_erased(subject) {"),
 ("catch up by default", "src/custodian/sync.rs", "if self.inner.catch_up {", "if false && self.inner.catch_up {"),
 ("revocation at use", "src/ledger/state.rs", "if s.revoked.contains_key(&info.id) {", "if false {"),
 ("restriction at use", "src/ledger/state.rs", "if s.restricted.contains(&subject) && !exempt_from_restriction(basis) {\n            return Err(AccessError::Restricted", "if false {\n            return Err(AccessError::Restricted"),
 ("config bounds", "src/custodian/builder.rs", "if self.ttl <= TimeDelta::zero() || self.ttl > MAX_TTL {", "if false {"),
 ("time overflow typed", "src/custodian/grants.rs", ".ok_or(IssueError::TimeOutOfRange)?;\n        if let Some(cap)", ".unwrap_or(now);\n        if let Some(cap)"),
 ("foreign grant never re-signed", "src/custodian/grants.rs", "pub fn seal_grant<P: Purpose>(&self, grant: &Grant<P>) -> Result<String, CustodianError> {\n        if !self.inner.tokens.accepts(grant.authority()) {", "pub fn seal_grant<P: Purpose>(&self, grant: &Grant<P>) -> Result<String, CustodianError> {\n        if false {"),
 ("store racing a withdrawal rechecks", "src/custodian/write.rs", "        self.recheck_collection_consent(subject, record, value.kind)\n            .await", "        Ok(())"),
 ("sharing choice backs sharing grants", "src/ledger/state.rs", "            if !s\n                .sharing\n                .get(&subject)", "            if false && !s\n                .sharing\n                .get(&subject)"),
 ("ledger entries need the keyring's tag", "src/custodian/sync.rs", "if !self.tag_verifies(&ev) {", "if false {"),
 ("host kinds never alias built-ins on read", "src/custodian/read.rs", "                            if Category::from_name(name).is_some() {\n                                return Err(CustodianError::ReservedKindName(name));", "                            if false {\n                                return Err(CustodianError::ReservedKindName(name));"),
 ("restriction exemption is legal compliance only", "src/ledger/state.rs", "    matches!(purpose, PurposeRef::Builtin(PurposeId::LegalCompliance))\n        && ", "    "),
 ("lookups skip restricted subjects", "src/custodian/write.rs", "|| !self.inner.state.is_restricted(*s))", "|| true)"),
]
only = sys.argv[2:]
bad = []
for name, f, old, new in M:
    if only and not any(o in name for o in only): continue
    p = root / f
    src = p.read_text()
    if src.count(old) != 1:
        print(f"SKIP {name}: pattern count {src.count(old)}"); continue
    p.write_text(src.replace(old, new))
    try:
        r = subprocess.run(["cargo","test","-q","-p","crm-privacy","--test","authority"], cwd=root, capture_output=True, text=True, timeout=900)
        out = r.stdout.split("failures:")
        failed = [l.strip() for l in (out[-1] if len(out) > 2 else "").splitlines() if l.strip() and not l.startswith("test result")]
        status = "RED" if r.returncode != 0 else "GREEN(!)"
        comp = "compile error" if "error[" in r.stderr else ""
        print(f"{status:9} {name}: {', '.join(failed)} {comp}", flush=True)
    finally:
        p.write_text(src)
        if r.returncode == 0: bad.append(name)

if bad:
    print("mutations that stayed green:", ", ".join(bad))
    sys.exit(1)

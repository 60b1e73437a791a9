//! Replays the scenario recorded against a real wazo-auth server
//! (`tests/data/wazo-real-server-exchanges.jsonl`) against the stand-in, step by step, and
//! compares status, content type and body shape with what the real server answered.
//!
//! The recording replaced every UUID, token and time with a placeholder. The plan below says,
//! for each step, which value the stand-in handed out earlier goes into each placeholder of
//! the request, which credentials and token the step used, and what to keep from its answer.
//! Steps held back from the recording left effects later steps rely on (a group, three
//! policies, a deleted session); `setup` recreates those effects with unrecorded requests.
//!
//! Every step must match except the ones in `EXPECTED_DIFFERENCES`, each of which is
//! explained in `docs/protocols/wazo.md`.

use std::collections::HashMap;

use pbx_mock::MockServer;
use pbx_mock::wazo::WazoMock;
use serde_json::{Value, json};

/// Steps whose answer differs from the recording on purpose (see `docs/protocols/wazo.md`).
const EXPECTED_DIFFERENCES: &[u64] = &[];

/// Per step: `auth=USER:PASS` (Basic credentials, default the administrator's),
/// `tok=VAR` (the `X-Auth-Token`, default `t1`; `@text` is literal), `p=A,B` (the path's
/// placeholders in order), `q=A` (the query's), `b=A` (the body's), `h=A` (`Wazo-Tenant`),
/// `save=VAR:/json/pointer;...` (values to keep from the answer).
const PLAN: &str = "
4 save=t1:/data/token;admin:/data/auth_id;master:/data/metadata/tenant_uuid
5 save=toff:/data/token;r1:/data/refresh_token
6
7
8 auth=admin:wrong
9 p=t1
10 p=t1
11 p=t1 q=master
12 p=t1
15 p=t1
16 p=t1
17 p=t1 q=master
18 p=t1
21 p=t1
23 p=t1
24 p=t1
26 save=noacl:/uuid
27 auth=live-noacl:noacl-pw save=tnoacl:/data/token
28 p=tnoacl
29 p=tnoacl
30 p=tnoacl
31 p=tnoacl
32 tok=tnoacl
33 tok=tnoacl
34 tok=@00000000-0000-4000-8000-000000000000
37 b=r1 save=trefresh:/data/token
40 p=admin
43 p=admin
44 p=admin
45 b=r1
46 save=t2:/data/token
47 p=t2
48 p=t2
49 p=t2
51 save=alice:/uuid;alice_email:/emails/0/uuid
59 p=alice
63 p=alice
64 p=alice
65 p=alice
66 auth=live-alice:alice-pw2 save=talice:/data/token;alice_session:/data/session_uuid
67 p=alice
68 p=alice,alice_session
69 p=talice
70 p=alice
71 p=alice
75 p=alice save=alice_email2:/1/uuid
78 p=alice,alice_email
79 p=alice,alice_email2
83 q=alice
90 save=acme:/uuid
93 p=master
94 h=acme save=sub:/uuid
95 p=acme
97 h=acme
98 p=acme
99 p=acme
100 h=acme save=bob:/uuid
101 h=acme
103 h=acme
104 p=alice h=acme
108 p=bob
109 p=sub,master
110 p=sub
111 p=sub
112 p=acme
113 p=acme
114 p=master
115 save=readers:/uuid
122 p=readers
124 p=readers
125 p=readers
126 p=readers
127 p=readers
128 p=readers
129 p=readers
130 p=readers
131 p=readers
132 p=readers
133 p=readers
134 p=readers
135 p=alice,readers
136 p=alice
137 p=alice
138 p=alice,readers
139 p=alice,readers
140 p=alice
149 p=alice
163 p=pager0
164 p=pager1
165 p=pager2
166 p=readers
167 p=readers
168 save=tthrow:/data/token;tthrow_session:/data/session_uuid
172 p=tthrow
191 save=page00:/uuid
192 save=page01:/uuid
193 save=page02:/uuid
194 save=page03:/uuid
195 save=page04:/uuid
196 save=page05:/uuid
197 save=page06:/uuid
198 save=page07:/uuid
199 save=page08:/uuid
200 save=page09:/uuid
201 save=page10:/uuid
202 save=page11:/uuid
203 save=page12:/uuid
204 save=page13:/uuid
205 save=page14:/uuid
206 save=page15:/uuid
207 save=page16:/uuid
208 save=page17:/uuid
209 save=page18:/uuid
210 save=page19:/uuid
211 save=page20:/uuid
212 save=page21:/uuid
213 save=page22:/uuid
214 save=page23:/uuid
215 save=page24:/uuid
220 p=page00
221 p=page01
222 p=page02
223 p=page03
224 p=page04
225 p=page05
226 p=page06
227 p=page07
228 p=page08
229 p=page09
230 p=page10
231 p=page11
232 p=page12
233 p=page13
234 p=page14
235 p=page15
236 p=page16
237 p=page17
238 p=page18
239 p=page19
240 p=page20
241 p=page21
242 p=page22
243 p=page23
244 p=page24
245 save=autopolicy:/uuid
246 save=auto:/uuid
247 p=auto,autopolicy
248 auth=live-auto:auto-pw save=a1:/data/token
249 tok=a1
250 tok=a1
251 p=auto save=as0:/items/0/uuid
252 p=auto,as0
253 tok=a1
254 auth=live-auto:auto-pw save=a2:/data/token
255 tok=a2
256 p=auto
257 tok=a2
258 auth=live-auto:auto-pw save=a3:/data/token
259 tok=a3
260 p=auto
261 tok=a3
262 auth=live-auto:auto-pw save=a4:/data/token
263 tok=a4
264 p=auto
265 p=auto
266 tok=a4
267 auth=live-auto:auto-pw save=a5:/data/token
268 tok=a5
269 p=auto
271 auth=live-auto:wrong
272 auth=live-auto:auto-pw save=a6:/data/token;rauto:/data/refresh_token
273 tok=a6
274 p=auto save=as1:/items/0/uuid;as2:/items/1/uuid;as3:/items/2/uuid;as4:/items/3/uuid;as5:/items/4/uuid
275 p=auto,as1
276 p=auto,as2
277 p=auto,as3
278 p=auto,as4
279 p=auto,as5
280 tok=a6
281 b=rauto save=a7:/data/token
282 tok=a7
283 save=r1t:/data/token
284 save=r2t:/data/token;rr:/data/refresh_token
285 save=r3t:/data/token
286 b=rr save=r4t:/data/token
287 b=rr save=r5t:/data/token
288 save=r6t:/data/token
289 p=r6t
290 p=r6t
291 p=r6t
292 p=r5t
293 auth=admin:wrong
294 save=tprefix:/data/token
295 p=tprefix
296 p=tprefix
297 p=tprefix
298 p=tprefix
299 p=tprefix
304 p=auto
305 p=autopolicy
306 p=noacl
307 p=alice
308 p=alice
309 p=trefresh
310 p=toff
311 p=t1
";

#[derive(Default)]
struct Step {
    auth: Option<(String, String)>,
    token: Option<String>,
    path: Vec<String>,
    query: Vec<String>,
    body: Vec<String>,
    tenant: Option<String>,
    save: Vec<(String, String)>,
}

fn plan() -> HashMap<u64, Step> {
    let mut steps = HashMap::new();
    for line in PLAN.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut words = line.split_whitespace();
        let seq: u64 = words
            .next()
            .and_then(|s| s.parse().ok())
            .expect("step number");
        let mut step = Step::default();
        for word in words {
            let (key, value) = word.split_once('=').expect("key=value");
            let list = || value.split(',').map(str::to_owned).collect::<Vec<_>>();
            match key {
                "auth" => {
                    let (u, p) = value.split_once(':').expect("USER:PASS");
                    step.auth = Some((u.to_owned(), p.to_owned()));
                }
                "tok" => step.token = Some(value.to_owned()),
                "p" => step.path = list(),
                "q" => step.query = list(),
                "b" => step.body = list(),
                "h" => step.tenant = Some(value.to_owned()),
                "save" => {
                    step.save = value
                        .split(';')
                        .map(|s| {
                            let (var, ptr) = s.split_once(':').expect("VAR:/pointer");
                            (var.to_owned(), ptr.to_owned())
                        })
                        .collect();
                }
                other => panic!("unknown plan key {other}"),
            }
        }
        steps.insert(seq, step);
    }
    steps
}

struct Replay {
    http: reqwest::Client,
    base: String,
    vars: HashMap<String, String>,
}

impl Replay {
    fn var(&self, name: &str) -> String {
        if let Some(literal) = name.strip_prefix('@') {
            return literal.to_owned();
        }
        self.vars
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("plan variable {name} was never saved"))
    }

    /// An unrecorded request with the administrator's token (for `setup`).
    async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("X-Auth-Token", self.var("t1"));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("setup request");
        assert!(
            resp.status().is_success(),
            "setup {path}: {}",
            resp.status()
        );
        resp.json().await.unwrap_or(Value::Null)
    }

    /// Recreates what held-back steps left behind and later steps rely on.
    async fn setup(&mut self, seq: u64) {
        match seq {
            // The held-back group steps left alice in a group renamed `live-group2`.
            149 => {
                let group = self
                    .admin(
                        reqwest::Method::POST,
                        "/0.1/groups",
                        Some(json!({"name": "live-group", "slug": "live-group"})),
                    )
                    .await;
                let g = group["uuid"].as_str().expect("group uuid").to_owned();
                self.admin(
                    reqwest::Method::PUT,
                    &format!("/0.1/groups/{g}"),
                    Some(json!({"name": "live-group2"})),
                )
                .await;
                let alice = self.var("alice");
                self.admin(
                    reqwest::Method::PUT,
                    &format!("/0.1/groups/{g}/users/{alice}"),
                    None,
                )
                .await;
            }
            // The held-back steps created three policies for the paging steps.
            160 => {
                for i in 0..3 {
                    let p = self
                        .admin(
                            reqwest::Method::POST,
                            "/0.1/policies",
                            Some(json!({"name": format!("live-pager-{i}")})),
                        )
                        .await;
                    let uuid = p["uuid"].as_str().expect("policy uuid").to_owned();
                    self.vars.insert(format!("pager{i}"), uuid);
                }
            }
            // The held-back session steps deleted the throw-away token's session.
            172 => {
                let s = self.var("tthrow_session");
                self.admin(reqwest::Method::DELETE, &format!("/0.1/sessions/{s}"), None)
                    .await;
            }
            _ => {}
        }
    }

    fn fill(&self, text: &str, values: &[String], used: &mut usize) -> String {
        let mut out = String::new();
        let mut rest = text;
        loop {
            let next = ["<uuid>", "<token>"]
                .iter()
                .filter_map(|p| rest.find(p).map(|i| (i, p.len())))
                .min();
            let Some((i, len)) = next else {
                out.push_str(rest);
                return out;
            };
            out.push_str(&rest[..i]);
            let name = values
                .get(*used)
                .unwrap_or_else(|| panic!("no plan value for placeholder {used} of {text}"));
            out.push_str(&self.var(name));
            *used += 1;
            rest = &rest[i + len..];
        }
    }

    fn fill_json(&self, value: &Value, values: &[String], used: &mut usize) -> Value {
        match value {
            Value::String(s) => Value::String(self.fill(s, values, used)),
            Value::Array(a) => {
                Value::Array(a.iter().map(|v| self.fill_json(v, values, used)).collect())
            }
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), self.fill_json(v, values, used)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// Where `actual` differs in shape from `expected` (a recorded body with placeholders).
fn shape_diff(expected: &Value, actual: &Value, at: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::String(p), Value::String(_) | Value::Number(_)) if p == "<timestamp>" => {}
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null) => {}
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!("{at}: {} items, recorded {}", a.len(), e.len()));
                return;
            }
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                shape_diff(e, a, &format!("{at}/{i}"), out);
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for k in e.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{at}/{k}: missing"));
            }
            for k in a.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{at}/{k}: not in the recording"));
            }
            for (k, ev) in e {
                if let Some(av) = a.get(k) {
                    if k == "error_id" && ev != av {
                        out.push(format!("{at}/error_id: {av}, recorded {ev}"));
                    }
                    shape_diff(ev, av, &format!("{at}/{k}"), out);
                }
            }
        }
        (e, a) => out.push(format!("{at}: {a}, recorded {e}")),
    }
}

#[tokio::test]
async fn the_stand_in_answers_the_recorded_scenario_as_the_real_server_did() {
    let path = format!(
        "{}/tests/data/wazo-real-server-exchanges.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let server = MockServer::start(WazoMock::new().with_admin("admin", "admin-pw"));
    let mut replay = Replay {
        http: reqwest::Client::new(),
        base: server.url().to_owned(),
        vars: HashMap::new(),
    };
    let plan = plan();
    let mut report = Vec::new();
    let mut total = 0;
    let mut matched = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let rec: Value = serde_json::from_str(line).expect("a recorded exchange");
        let seq = rec["seq"].as_u64().expect("seq");
        let default = Step::default();
        let step = plan.get(&seq).unwrap_or(&default);
        replay.setup(seq).await;
        let raw_path = rec["raw_path"].as_str().expect("raw_path");
        let path = replay.fill(raw_path, &step.path, &mut 0);
        let query: Vec<(String, String)> = rec["query"]
            .as_object()
            .map(|q| {
                let mut used = 0;
                q.iter()
                    .map(|(k, v)| {
                        let v = v.as_str().unwrap_or_default();
                        (k.clone(), replay.fill(v, &step.query, &mut used))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let method =
            reqwest::Method::from_bytes(rec["method"].as_str().unwrap_or("GET").as_bytes())
                .expect("method");
        let mut req = replay
            .http
            .request(method, format!("{}{path}", replay.base))
            .query(&query);
        let headers = rec["request_headers"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        if headers.contains_key("authorization") {
            let (u, p) = step
                .auth
                .clone()
                .unwrap_or_else(|| ("admin".to_owned(), "admin-pw".to_owned()));
            req = req.basic_auth(u, Some(p));
        }
        if headers.contains_key("x-auth-token") {
            req = req.header(
                "X-Auth-Token",
                replay.var(step.token.as_deref().unwrap_or("t1")),
            );
        }
        if let Some(t) = headers.get("wazo-tenant").and_then(Value::as_str) {
            req = req.header(
                "Wazo-Tenant",
                replay.fill(t, step.tenant.as_slice(), &mut 0),
            );
        }
        for name in ["wazo-session-type", "user-agent", "accept"] {
            if let Some(v) = headers.get(name).and_then(Value::as_str) {
                req = req.header(name, v);
            }
        }
        if !rec["request_body"].is_null() {
            let body = replay.fill_json(&rec["request_body"], &step.body, &mut 0);
            req = req.json(&body);
        }
        let resp = req.send().await.expect("the stand-in answers");
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = resp.bytes().await.expect("a body");
        let body: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        let mut diffs = Vec::new();
        let want_status = rec["status"].as_u64().unwrap_or_default();
        if u64::from(status) != want_status {
            diffs.push(format!("status {status}, recorded {want_status}"));
        }
        let want_type = rec["response_headers"]["content-type"].as_str();
        if content_type.as_deref() != want_type {
            diffs.push(format!(
                "content type {content_type:?}, recorded {want_type:?}"
            ));
        }
        shape_diff(&rec["response_body"], &body, "body", &mut diffs);
        for (var, ptr) in &step.save {
            match body.pointer(ptr).and_then(Value::as_str) {
                Some(v) => {
                    replay.vars.insert(var.clone(), v.to_owned());
                }
                None => diffs.push(format!("nothing at {ptr} to keep as {var}")),
            }
        }
        total += 1;
        let expected = EXPECTED_DIFFERENCES.contains(&seq);
        if diffs.is_empty() {
            matched += 1;
            if expected {
                report.push(format!(
                    "step {seq} now matches; take it off EXPECTED_DIFFERENCES"
                ));
            }
        } else if !expected {
            report.push(format!(
                "step {seq} {} {} {raw_path}: {}",
                rec["step"].as_str().unwrap_or_default(),
                rec["method"].as_str().unwrap_or_default(),
                diffs.join("; ")
            ));
        }
    }
    eprintln!("wazo-auth recording: {matched} of {total} steps match");
    assert!(
        report.is_empty(),
        "{} step(s) differ:\n{}",
        report.len(),
        report.join("\n")
    );
}

//! A corpus of bad input: every kind of mistake in Cargo metadata and
//! deploy.toml, and every wrong setting found at the start (stage, manifest,
//! credentials, role, distribution, hosted zone). Each case must exit 1 with
//! a message naming the place and a fix, and the recording proxy in front of
//! moto must record no write at all (validation errors: no request at all).

mod support;

use std::path::Path;

use support::{ferry, fresh_copy, Readback};

/// Where a case changes the example, and how.
enum Edit {
    /// Replace the first `from` in the file with `to`.
    Replace(&'static str, &'static str, &'static str),
    /// Append text to the file.
    Append(&'static str, &'static str),
    /// Several edits, each as above.
    Many(&'static [Edit]),
    /// Nothing in the files; the case is in the arguments or environment.
    None,
}

/// A front door for the test stage, for the caching cases.
const DOOR: &str = "\n[stages.test.cloudfront]\ndomain = \"api.items.test\"\ncertificate = \"arn:aws:acm:us-east-1:123456789012:certificate/c\"\n";

/// What a case must report: the file (or subject) and the key it names.
struct Case {
    name: &'static str,
    edit: Edit,
    args: &'static [&'static str],
    place: &'static str,
    key: &'static str,
    /// A validation error sends no request; a wrong setting in AWS only reads.
    requests: bool,
}

const D: &str = "deploy.toml";
const GET: &str = "services/get-item/Cargo.toml";
const LIST: &str = "services/list-items/Cargo.toml";
const CREATE: &str = "services/create-item/Cargo.toml";
const JWKS: &str = "layers/jwks/Cargo.toml";
const JWT: &str = "authorizers/jwt/Cargo.toml";
const DEPLOY: &[&str] = &["deploy", "--stage", "test"];

fn case(name: &'static str, edit: Edit, place: &'static str, key: &'static str) -> Case {
    Case {
        name,
        edit,
        args: DEPLOY,
        place,
        key,
        requests: false,
    }
}

fn corpus() -> Vec<Case> {
    use Edit::*;
    let mut cases = vec![
        // deploy.toml: syntax, types, unknown keys.
        case("broken TOML", Replace(D, "[app]", "[app"), D, "deploy.toml:5"),
        case("unknown top-level key", Append(D, "\ncolour = \"blue\"\n"), D, "colour"),
        case("no [app]", Replace(D, "[app]", "[application]"), D, "application"),
        case("app name", Replace(D, "name = \"items\"", "name = \"items!\""), D, "app.name"),
        case("app architecture", Replace(D, "architecture = \"arm64\"", "architecture = \"sparc\""), D, "sparc"),
        case("app runtime", Replace(D, "runtime = \"provided.al2023\"", "runtime = \"nodejs20.x\""), D, "nodejs20.x"),
        case("region", Replace(D, "region = \"us-east-1\"", "region = \"Virginia\""), D, "stages.test.region"),
        case("region type", Replace(D, "region = \"us-east-1\"", "region = 1"), D, "region"),
        case("role", Append(D, "\n[stages.qa]\nregion = \"us-east-1\"\nrole = \"admin\"\n"), D, "stages.qa.role"),
        case("tracing", Replace(GET, "tracing = \"active\"", "tracing = \"on\""), GET, "package.metadata.ferry.tracing"),
        case("ephemeral storage", Replace(GET, "ephemeral-storage = 1024", "ephemeral-storage = 256"), GET, "package.metadata.ferry.ephemeral-storage"),
        case("cors origin", Replace(D, "\"http://localhost:3000\"]", "\"http://localhost:3000/\"]"), D, "stages.test.api.cors.allow-origins"),
        case("cors star with credentials", Replace(D, "allow-origins = [\"https://items.example.com\", \"http://localhost:3000\"]", "allow-origins = [\"*\"]"), D, "stages.test.api.cors.allow-credentials"),
        case("cors max-age", Replace(D, "max-age = 300", "max-age = 100000"), D, "stages.test.api.cors.max-age"),
        case("cors max-age type", Replace(D, "max-age = 300", "max-age = \"5m\""), D, "max-age"),
        case("cors header", Replace(D, "expose-headers = [\"ETag\"]", "expose-headers = [\"E Tag\"]"), D, "stages.test.api.cors.expose-headers"),
        case("cors unknown key", Replace(D, "max-age = 300", "max-age = 300\nallow-origin = [\"*\"]"), D, "allow-origin"),
        case("cors path", Replace(D, "paths.\"/echo/{proxy+}\"]", "paths.\"/echo\"]"), D, "stages.test.api.cors.paths.\"/echo\""),
        case("cors method", Replace(D, "max-age = 300", "max-age = 300\nallow-methods = [\"get\"]"), D, "stages.test.api.cors.allow-methods"),
        case("cors env reserved", Replace(D, "LOG_FORMAT = \"text\"", "FERRY_CORS = \"{}\""), D, "FERRY_CORS"),
        case("account", Replace(D, "log-retention-days = 7", "log-retention-days = 7\naccount = \"12345\""), D, "stages.test.account"),
        case("account type", Replace(D, "log-retention-days = 7", "log-retention-days = 7\naccount = 123456789012"), D, "account"),
        case("profile", Replace(D, "log-retention-days = 7", "log-retention-days = 7\nprofile = \"my prod\""), D, "stages.test.profile"),
        case("retention", Replace(D, "log-retention-days = 7", "log-retention-days = 10"), D, "stages.test.log-retention-days"),
        case("retention type", Replace(D, "log-retention-days = 7", "log-retention-days = \"week\""), D, "log-retention-days"),
        case("env reserved", Replace(D, "LOG_FORMAT = \"text\"", "AWS_REGION = \"x\""), D, "AWS_REGION"),
        case("env name", Replace(D, "LOG_FORMAT = \"text\"", "\"1BAD\" = \"x\""), D, "1BAD"),
        case("env value type", Replace(D, "LOG_FORMAT = \"text\"", "LOG_FORMAT = 5"), D, "LOG_FORMAT"),
        case("env secret kind", Replace(D, "LOG_FORMAT = \"text\"", "DB = { vault = \"db\" }"), D, "vault"),
        case("env SSM name", Replace(D, "LOG_FORMAT = \"text\"", "DB = { ssm = \"no spaces\" }"), D, "no spaces"),
        case("service env from-env", Replace(LIST, "env = { RUST_LOG = \"info\" }", "env = { TOKEN = { from-env = \"1X\" } }"), LIST, "TOKEN"),
        case("stage unknown key", Replace(D, "log-retention-days = 7", "log-retention-days = 7\ncolour = 1"), D, "colour"),
        case("stage name", Append(D, "\n[stages.\"bad stage\"]\nregion = \"us-east-1\"\n"), D, "bad stage"),
        case("stage name of digits only", Append(D, "\n[stages.2026]\nregion = \"us-east-1\"\n"), D, "stages.2026"),
        case("endpoint", Replace(D, "endpoint = \"REGIONAL\"", "endpoint = \"PRIVATE\""), D, "PRIVATE"),
        case("api unknown key", Replace(D, "[stages.test.api]", "[stages.test.api]\nthrottling = 5"), D, "throttling"),
        case("api name for the access log", Replace(D, "[stages.test.api]", "[stages.test.api]\nname = \"items api\""), D, "stages.test.api.name"),
        case("api tracing type", Replace(D, "tracing = true ", "tracing = \"on\" "), D, "tracing"),
        case("throttle without burst", Replace(D, "burst = 200\n", ""), D, "stages.test.api.throttle"),
        case("throttle rate", Replace(D, "rate = 100", "rate = -1"), D, "stages.test.api.throttle.rate"),
        case("throttle unknown key", Replace(D, "burst = 200", "burst = 200\nlimit = 5"), D, "limit"),
        case("throttle of an unknown route", Replace(D, "\"POST /items\" = { rate = 10", "\"PUT /items\" = { rate = 10"), D, "stages.test.api.throttle.routes.\"PUT /items\""),
        case("throttle burst of 0", Replace(D, "rate = 10, burst = 20", "rate = 10, burst = 0"), D, "stages.test.api.throttle.routes.\"POST /items\".burst"),
        case("access-log format", Replace(D, "cloudwatch-role = \"managed\"", "cloudwatch-role = \"managed\"\nformat = \"$context.status\""), D, "stages.test.api.access-log.format"),
        case("access-log role", Replace(D, "cloudwatch-role = \"managed\"", "cloudwatch-role = \"apigw-logs\""), D, "stages.test.api.access-log.cloudwatch-role"),
        case("resources past the quota", Append(D, "\n[stages.test.api.quotas]\nresources = 3\n"), D, "API Gateway resources"),
        case("quota type", Append(D, "\n[stages.test.api.quotas]\nstages = \"ten\"\n"), D, "stages"),
        case("reserved concurrency", Replace(CREATE, "reserved-concurrency = 20", "reserved-concurrency = -5"), CREATE, "package.metadata.ferry.reserved-concurrency"),
        case("override reserved concurrency", Append(D, "\n[stages.test.services.get-item]\nreserved-concurrency = 2000000\n"), D, "stages.test.services.get-item.reserved-concurrency"),
        // VPC.
        case("vpc subnet id", Append(D, "\n[stages.test.vpc]\nsubnets = [\"subnet-zz\"]\nsecurity-groups = [\"sg-0123abcd\"]\n"), D, "stages.test.vpc.subnets"),
        case("vpc without groups", Append(D, "\n[stages.test.vpc]\nsubnets = [\"subnet-0123abcd\"]\n"), D, "stages.test.vpc.security-groups"),
        case("vpc too many groups", Append(D, "\n[stages.test.vpc]\nsubnets = [\"subnet-0123abcd\"]\nsecurity-groups = [\"sg-00000001\", \"sg-00000002\", \"sg-00000003\", \"sg-00000004\", \"sg-00000005\", \"sg-00000006\"]\n"), D, "stages.test.vpc.security-groups"),
        case("vpc unknown key", Append(D, "\n[stages.test.vpc]\nsubnets = [\"subnet-0123abcd\"]\nsecurity-groups = [\"sg-0123abcd\"]\nvpc-id = \"vpc-1\"\n"), D, "vpc-id"),
        case("override vpc true", Append(D, "\n[stages.test.services.get-item]\nvpc = true\n"), D, "stages.test.services.get-item.vpc"),
        case("override vpc type", Append(D, "\n[stages.test.services.get-item]\nvpc = \"default\"\n"), D, "vpc"),
        case("permission action", Append(GET, "\n[[package.metadata.ferry.permissions]]\nactions = [\"GetItem\"]\nresources = [\"*\"]\n"), GET, "package.metadata.ferry.permissions.actions"),
        case("permission every action", Append(GET, "\n[[package.metadata.ferry.permissions]]\nactions = [\"*\"]\nresources = [\"*\"]\n"), GET, "package.metadata.ferry.permissions.actions"),
        case("permission placeholder", Append(GET, "\n[[package.metadata.ferry.permissions]]\nactions = [\"s3:GetObject\"]\nresources = [\"arn:aws:s3:::${bucket}/*\"]\n"), GET, "package.metadata.ferry.permissions.resources"),
        case("permission resource", Append(GET, "\n[[package.metadata.ferry.permissions]]\nactions = [\"s3:GetObject\"]\nresources = [\"my-bucket\"]\n"), GET, "package.metadata.ferry.permissions.resources"),
        case("permission no resources", Append(GET, "\n[[package.metadata.ferry.permissions]]\nactions = [\"s3:GetObject\"]\n"), GET, "package.metadata.ferry.permissions.resources"),
        case("permission unknown key", Append(GET, "\n[[package.metadata.ferry.permissions]]\nactions = [\"s3:GetObject\"]\nresources = [\"*\"]\neffect = \"Deny\"\n"), GET, "effect"),
        // The artifact bucket.
        case("artifact bucket name", Replace(D, "[stages.test]\n", "[stages.test]\nartifact-bucket = \"Items_Artifacts\"\n"), D, "stages.test.artifact-bucket"),
        case("artifact bucket key", Replace(D, "[stages.test]\n", "[stages.test]\nartifact-bucket = { name = \"items-artifacts\", create = \"yes\" }\n"), D, "create"),
        // The log archive.
        case("log archive bucket name", Replace(D, "[stages.test]\n", "[stages.test]\nlog-archive = { bucket = \"Items_Logs\" }\n"), D, "stages.test.log-archive.bucket"),
        case("log archive prefix", Replace(D, "[stages.test]\n", "[stages.test]\nlog-archive = { bucket = \"items-logs\", prefix = \"/logs\" }\n"), D, "stages.test.log-archive.prefix"),
        case("adopted function name", Replace(D, "[stages.test.services.jwt]\n", "[stages.test.services.jwt]\nfunction-name = \"has space\"\n"), D, "stages.test.services.jwt.function-name"),
        case("adopted api id", Replace(D, "[stages.test.api]\n", "[stages.test.api]\nid = \"NOT-AN-ID\"\n"), D, "stages.test.api.id"),
        case("adopted api unnamed", Replace(D, "[stages.test.api]\n", "[stages.test.api]\nid = \"a1b2c3d4e5\"\n"), D, "stages.test.api.id"),
        Case { requests: true, ..case("adopted api missing", Replace(D, "[stages.test.api]\n", "[stages.test.api]\nid = \"zzzzzzzzzz\"\nname = \"items-test\"\n"), D, "stages.test.api.id") },
        Case { requests: true, ..case("log archive bucket missing", Replace(D, "[stages.test]\n", "[stages.test]\nlog-archive = { bucket = \"items-logs-nowhere\" }\n"), D, "stages.test.log-archive.bucket") },
        Case { requests: true, ..case("artifact bucket missing", Replace(D, "[stages.test]\n", "[stages.test]\nartifact-bucket = \"items-artifacts-nowhere\"\n"), D, "stages.test.artifact-bucket") },
        // Authorizers.
        case("auth of no authorizer", Replace(CREATE, "auth = \"jwt\"", "auth = \"jtw\""), CREATE, "package.metadata.ferry.auth"),
        case("auth naming a service", Replace(CREATE, "auth = \"jwt\"", "auth = \"echo\""), CREATE, "package.metadata.ferry.auth"),
        case("auth of another route", Replace(LIST, "auth = \"public\"", "auth = { \"GET /itemz\" = \"public\" }"), LIST, "package.metadata.ferry.auth"),
        case("route without auth", Replace(GET, "auth = \"public\"", ""), D, "stages.test.api.require-authorizer"),
        case("authorizer ttl", Replace(JWT, "ttl = 300", "ttl = 7200"), JWT, "package.metadata.ferry.authorizer.ttl"),
        case("authorizer identity source", Replace(JWT, "\"header:Authorization\"", "\"cookie:session\""), JWT, "package.metadata.ferry.authorizer.identity-sources"),
        case("token authorizer of two sources", Many(&[Replace(JWT, "type = \"request\"", "type = \"token\""), Replace(JWT, "[\"header:Authorization\"]", "[\"header:Authorization\", \"query:t\"]")]), JWT, "package.metadata.ferry.authorizer.identity-sources"),
        case("authorizer type", Replace(JWT, "type = \"request\"", "type = \"jwt\""), JWT, "type"),
        case("authorizer with routes", Replace(JWT, "memory = 128", "memory = 128\nroutes = [\"GET /auth\"]"), JWT, "package.metadata.ferry.authorizer"),
        case("cognito user pool", Append(D, "\n[stages.test.authorizers.users]\nuser-pools = [\"eu-west-1_AbC123\"]\n"), D, "stages.test.authorizers.users.user-pools"),
        case("service vpc group id", Replace(GET, "memory = 128", "memory = 128\nvpc = { subnets = [\"subnet-0123abcd\"], security-groups = [\"default\"] }"), GET, "package.metadata.ferry.vpc.security-groups"),
        case("cargo-lambda subnet ids", Replace(GET, "[package.metadata.ferry]", "[package.metadata.lambda.deploy]\nsubnet_ids = [\"subnet-0123abcd\", \"subnet-0123abcd\"]\nsecurity_group_ids = [\"sg-0123abcd\"]\n\n[package.metadata.ferry]"), GET, "package.metadata.lambda.deploy.subnet_ids"),
        case("override of a missing service", Append(D, "\n[stages.test.services.ghost]\nmemory = 256\n"), D, "stages.test.services.ghost"),
        case("override memory", Append(D, "\n[stages.test.services.get-item]\nmemory = 64\n"), D, "stages.test.services.get-item.memory"),
        case("override timeout", Append(D, "\n[stages.test.services.get-item]\ntimeout = 901\n"), D, "stages.test.services.get-item.timeout"),
        case("function name too long", Append(D, "\n[stages.a-very-long-stage-name-that-makes-function-names-too-long]\nregion = \"us-east-1\"\n"), D, "would be"),
        case("tags type", Replace(D, "tags = { app = \"items\", stage = \"test\" }", "tags = \"items\""), D, "tags"),
        // deploy.toml: the front door.
        case("front door without domain or distribution", Append(D, "\n[stages.test.cloudfront]\ninvalidate = true\n"), D, "stages.test.cloudfront"),
        case("front door domain", Append(D, "\n[stages.test.cloudfront]\ndomain = \"API.items\"\n"), D, "stages.test.cloudfront.domain"),
        case("certificate region", Append(D, "\n[stages.test.cloudfront]\ndomain = \"api.items.test\"\ncertificate = \"arn:aws:acm:eu-west-1:123456789012:certificate/c\"\n"), D, "us-east-1"),
        case("certificate ARN", Append(D, "\n[stages.test.cloudfront]\ndomain = \"api.items.test\"\ncertificate = \"my-cert\"\n"), D, "stages.test.cloudfront.certificate"),
        case("hosted zone without domain", Append(D, "\n[stages.test.cloudfront]\ndistribution = \"E123\"\nhosted-zone = \"Z1\"\n"), D, "stages.test.cloudfront.hosted-zone"),
        case("origin without distribution", Append(D, "\n[stages.test.cloudfront]\ndomain = \"api.items.test\"\norigin = \"api\"\n"), D, "stages.test.cloudfront.origin"),
        case("front door unknown key", Append(D, "\n[stages.test.cloudfront]\ndomain = \"api.items.test\"\nttl = 5\n"), D, "ttl"),
        case("invalidate type", Append(D, "\n[stages.test.cloudfront]\ndomain = \"api.items.test\"\ninvalidate = \"yes\"\n"), D, "invalidate"),
        case("distribution id", Append(D, "\n[stages.test.cloudfront]\ndistribution = \"e-123\"\n"), D, "stages.test.cloudfront.distribution"),
        // Service metadata.
        case("route without slash", Replace(GET, "\"GET /items/{id}\"", "\"GET items/{id}\""), GET, "routes"),
        case("route method", Replace(GET, "\"GET /items/{id}\"", "\"FETCH /items/{id}\""), GET, "FETCH"),
        case("route claimed twice", Replace(GET, "\"GET /items/{id}\"", "\"GET /items\""), GET, "GET /items"),
        case("sibling variables", Replace(GET, "\"GET /items/{id}\"", "\"GET /items/{id}\", \"GET /items/{key}/x\""), GET, "{key}"),
        case("empty segment", Replace(GET, "\"GET /items/{id}\"", "\"GET /items//{id}\""), GET, "routes"),
        case("memory", Replace(GET, "memory = 128", "memory = 64"), GET, "memory"),
        case("timeout", Replace(GET, "timeout = 5", "timeout = 0"), GET, "timeout"),
        case("metadata unknown key", Replace(GET, "memory = 128", "memory = 128\ncolour = \"red\""), GET, "colour"),
        case("unknown layer", Replace(LIST, "layers = [\"request-logger\"]", "layers = [\"nope\"]"), LIST, "nope"),
        case("service architecture", Replace(GET, "memory = 128", "memory = 128\narchitecture = \"mips\""), GET, "mips"),
        case("service env reserved", Replace(LIST, "env = { RUST_LOG = \"info\" }", "env = { _HANDLER = \"x\" }"), LIST, "_HANDLER"),
        case("routes type", Replace(GET, "routes = [\"GET /items/{id}\"]", "routes = \"GET /items/{id}\""), GET, "routes"),
        case("service Cargo.toml broken", Replace(GET, "[package.metadata.ferry]", "[package.metadata.ferry"), GET, "Cargo.toml"),
        // Caching.
        case("cache TTL", Replace(GET, "ttl = 60", "ttl = 40000000"), GET, "cache.\"GET /items/{id}\".ttl"),
        case("cache header name", Replace(LIST, "query = [\"limit\", \"tag\"]", "query = [\"limit\", \"tag\"]\nheaders = [\"Accept Language\"]"), LIST, "cache.\"GET /items\".headers"),
        case("cache unknown key", Replace(GET, "ttl = 60", "ttl = 60\nttl-seconds = 5"), GET, "ttl-seconds"),
        case("cache of a route not the service's", Replace(GET, "cache.\"GET /items/{id}\"]", "cache.\"GET /item/{id}\"]"), GET, "GET /item/{id}"),
        case("cached route behind auth without its header", Many(&[Replace(GET, "memory = 128", "memory = 128\nauth-header = \"Authorization\""), Append(D, DOOR)]), GET, "cache.\"GET /items/{id}\""),
        case("stage cache of an unknown route", Many(&[Append(D, DOOR), Append(D, "\n[stages.test.cloudfront.cache.routes.\"GET /nowhere\"]\nttl = 5\n")]), D, "stages.test.cloudfront.cache.routes"),
        case("stage cache of a POST", Many(&[Append(D, DOOR), Append(D, "\n[stages.test.cloudfront.cache.routes.\"POST /items\"]\nttl = 5\n")]), D, "POST /items"),
        case("stage cache TTLs crossed", Many(&[Append(D, DOOR), Append(D, "\n[stages.test.cloudfront.cache.routes.\"GET /items\"]\nmin-ttl = 100\n")]), D, "min-ttl <= ttl <= max-ttl"),
        case("stage cache size", Append(D, "\n[stages.test.api.cache]\nsize = \"2\"\n"), D, "stages.test.api.cache.size"),
        case("stage cache TTL over API Gateway's", Append(D, "\n[stages.test.api.cache]\n[stages.test.api.cache.routes.\"GET /items/{id}\"]\nttl = 7200\n"), D, "3600"),
        case("two caches", Append(D, "\n[stages.test.api.cache]\n[stages.test.cloudfront]\ndomain = \"api.items.test\"\ncertificate = \"arn:aws:acm:us-east-1:123456789012:certificate/c\"\n"), D, "stages.test.api.cache"),
        // Layer metadata.
        case("layer source missing", Replace(JWKS, "\"ferry/jwks\" = \"keys\"", "\"ferry/jwks\" = \"no-such-dir\""), JWKS, "no-such-dir"),
        case("layer unknown key", Replace(JWKS, "compatible-architectures", "architectures"), JWKS, "architectures"),
        case("layer runtime", Replace(JWKS, "\"provided.al2\", ", "\"python3.12\", "), JWKS, "python3.12"),
    ];
    // The command line and the environment.
    cases.push(Case {
        name: "unknown stage",
        edit: Edit::None,
        args: &["deploy", "--stage", "nope"],
        place: "deploy.toml",
        key: "nope",
        requests: false,
    });
    cases.push(Case {
        name: "missing manifest",
        edit: Edit::None,
        args: &["plan", "--stage", "test", "--manifest", "missing.json"],
        place: "missing.json",
        key: "manifest",
        requests: true,
    });
    cases.push(Case {
        name: "missing saved plan",
        edit: Edit::None,
        args: &["deploy", "--stage", "test", "--plan", "missing-plan.json"],
        place: "missing-plan.json",
        key: "saved plan",
        requests: false,
    });
    cases.push(Case {
        name: "no credentials",
        edit: Edit::None,
        args: DEPLOY,
        place: "credentials",
        key: "AWS_PROFILE",
        requests: false,
    });
    // Settings that name what AWS does not have: reads only, no write.
    cases.push(Case {
        name: "credentials of another account",
        edit: Edit::Replace(
            D,
            "log-retention-days = 7",
            "log-retention-days = 7\naccount = \"999999999999\"",
        ),
        args: DEPLOY,
        place: "deploy.toml:",
        key: "999999999999",
        requests: true,
    });
    cases.push(Case {
        name: "profile that does not exist",
        edit: Edit::Replace(
            D,
            "log-retention-days = 7",
            "log-retention-days = 7\nprofile = \"nosuchprofile\"",
        ),
        args: DEPLOY,
        place: "nosuchprofile",
        key: "profile",
        requests: false,
    });
    cases.push(Case {
        name: "role that does not exist",
        edit: Edit::Replace(
            D,
            "log-retention-days = 7",
            "log-retention-days = 7\nrole = \"arn:aws:iam::123456789012:role/nobody\"",
        ),
        args: DEPLOY,
        place: "arn:aws:iam::123456789012:role/nobody",
        key: "role",
        requests: true,
    });
    cases.push(Case {
        name: "access log without API Gateway's CloudWatch role",
        edit: Edit::Replace(D, "cloudwatch-role = \"managed\"\n", ""),
        args: DEPLOY,
        place: "[stages.test.api.access-log]",
        key: "cloudwatch-role",
        requests: true,
    });
    cases.push(Case {
        name: "distribution that does not exist",
        edit: Edit::Append(
            D,
            "\n[stages.test.cloudfront]\ndistribution = \"E0NOSUCHDIST\"\n",
        ),
        args: DEPLOY,
        place: "E0NOSUCHDIST",
        key: "distribution",
        requests: true,
    });
    cases.push(Case { name: "hosted zone that does not exist", edit: Edit::Append(D, "\n[stages.test.cloudfront]\ndomain = \"api.items.test\"\ncertificate = \"arn:aws:acm:us-east-1:123456789012:certificate/c\"\nhosted-zone = \"Z0NOSUCHZONE\"\n"), args: DEPLOY, place: "Z0NOSUCHZONE", key: "hosted-zone", requests: true });
    cases.push(Case {
        name: "domain with no distribution and no certificate",
        edit: Edit::Append(
            D,
            "\n[stages.test.cloudfront]\ndomain = \"api.items.test\"\n",
        ),
        args: DEPLOY,
        place: "api.items.test",
        key: "certificate",
        requests: true,
    });
    cases
}

/// Makes the edits; returns each file's text before, to restore (last
/// edit first).
fn apply(ws: &Path, edit: &Edit) -> Vec<(std::path::PathBuf, String)> {
    let file = match edit {
        Edit::Replace(f, ..) | Edit::Append(f, _) => f,
        Edit::Many(edits) => return edits.iter().flat_map(|e| apply(ws, e)).collect(),
        Edit::None => return Vec::new(),
    };
    let path = ws.join(file);
    let before = std::fs::read_to_string(&path).unwrap();
    let after = match edit {
        Edit::Replace(_, from, to) => {
            assert!(before.contains(from), "{file} has no `{from}`");
            before.replacen(from, to, 1)
        }
        Edit::Append(_, text) => format!("{before}{text}"),
        Edit::Many(_) | Edit::None => unreachable!(),
    };
    std::fs::write(&path, after).unwrap();
    vec![(path, before)]
}

#[test]
fn every_bad_input_fails_before_any_write() {
    let (moto, proxy) = support::moto_and_proxy();
    let ws = support::example_root().join("target/ferry-test-deploy/bad-input");
    fresh_copy(&ws);
    let _ = std::fs::remove_dir_all(ws.join("target"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _aws = rt.block_on(Readback::new(&moto.url(), "us-east-1"));
    let cases = corpus();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let restore = apply(&ws, &case.edit);
        let mut command = ferry(&ws, &proxy.url());
        command.args(case.args);
        if case.name == "no credentials" {
            command
                .env_remove("AWS_ACCESS_KEY_ID")
                .env_remove("AWS_SECRET_ACCESS_KEY");
        }
        let out = command.output().unwrap();
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        let calls = proxy.take();
        let written: Vec<&String> = calls.iter().filter(|c| c.write).map(|c| &c.name).collect();
        let mut wrong = Vec::new();
        if out.status.code() != Some(1) {
            wrong.push(format!("exit {:?}", out.status.code()));
        }
        // miette wraps a long message, after a hyphen too.
        let unwrapped = text.replace("\n  │ ", "");
        for needle in [case.place, case.key] {
            if !text.contains(needle) && !unwrapped.contains(needle) {
                wrong.push(format!("no `{needle}` in the message"));
            }
        }
        if !text.contains("help") {
            wrong.push("no fix (help) in the message".into());
        }
        if !written.is_empty() {
            wrong.push(format!("writes: {written:?}"));
        }
        if !case.requests && !calls.is_empty() {
            wrong.push(format!("{} requests before failing", calls.len()));
        }
        if ws.join("target/lambda").exists() {
            wrong.push("it built".into());
            let _ = std::fs::remove_dir_all(ws.join("target/lambda"));
        }
        if text.contains("panicked") {
            wrong.push("a panic".into());
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {}\n{text}", case.name, wrong.join("; ")));
        }
        for (path, before) in restore.into_iter().rev() {
            std::fs::write(path, before).unwrap();
        }
    }
    eprintln!("{} bad inputs, each refused before any write", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/*
 * capif-token: mints CAPIF access tokens (JWS compact serialization) the way
 * a CCF does, for the demo, the bench and the tests.  It signs with libjwt,
 * independently of the module's own verification code.
 *
 *   capif-token --key PRIVATE.pem --alg RS256 --invoker INV \
 *               --scope '3gpp#aef-1:3gpp-monitoring-event'
 *
 * The token and a newline go to stdout.  Exit status: 0 on success, 1 on
 * failure, 2 on a usage error.
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <jwt.h>


#define CT_EXIT_FAILURE  1
#define CT_EXIT_USAGE    2

#define CT_KEY_MAX       (1024 * 1024)
#define CT_JTI_BYTES     16


typedef struct {
    const char  *key_file;
    const char  *alg_name;
    const char  *invoker;
    const char  *invoker_claim;
    const char  *scope;
    const char  *kid;
    const char  *jti;
    const char  *type;
    long long    lifetime;
    long long    iat_offset;
    long long    nbf_offset;
    long long    now;
    int          no_iat;
    int          has_nbf;
    int          has_now;
} ct_opts_t;


enum {
    CT_OPT_KEY = 256,
    CT_OPT_ALG,
    CT_OPT_INVOKER,
    CT_OPT_INVOKER_CLAIM,
    CT_OPT_SCOPE,
    CT_OPT_LIFETIME,
    CT_OPT_IAT,
    CT_OPT_NO_IAT,
    CT_OPT_NBF_OFFSET,
    CT_OPT_KID,
    CT_OPT_JTI,
    CT_OPT_TYPE,
    CT_OPT_NO_TYPE,
    CT_OPT_CLAIM,
    CT_OPT_CLAIM_NUM,
    CT_OPT_CLAIM_JSON,
    CT_OPT_NOW,
    CT_OPT_HELP,
    CT_OPT_VERSION
};


static const struct option  ct_long_opts[] = {
    { "key",            required_argument, NULL, CT_OPT_KEY },
    { "alg",            required_argument, NULL, CT_OPT_ALG },
    { "invoker",        required_argument, NULL, CT_OPT_INVOKER },
    { "invoker-claim",  required_argument, NULL, CT_OPT_INVOKER_CLAIM },
    { "scope",          required_argument, NULL, CT_OPT_SCOPE },
    { "lifetime",       required_argument, NULL, CT_OPT_LIFETIME },
    { "iat",            required_argument, NULL, CT_OPT_IAT },
    { "no-iat",         no_argument,       NULL, CT_OPT_NO_IAT },
    { "nbf-offset",     required_argument, NULL, CT_OPT_NBF_OFFSET },
    { "kid",            required_argument, NULL, CT_OPT_KID },
    { "jti",            required_argument, NULL, CT_OPT_JTI },
    { "type",           required_argument, NULL, CT_OPT_TYPE },
    { "no-type",        no_argument,       NULL, CT_OPT_NO_TYPE },
    { "claim",          required_argument, NULL, CT_OPT_CLAIM },
    { "claim-num",      required_argument, NULL, CT_OPT_CLAIM_NUM },
    { "claim-json",     required_argument, NULL, CT_OPT_CLAIM_JSON },
    { "now",            required_argument, NULL, CT_OPT_NOW },
    { "help",           no_argument,       NULL, CT_OPT_HELP },
    { "version",        no_argument,       NULL, CT_OPT_VERSION },
    { NULL, 0, NULL, 0 }
};


static const char  *ct_prog = "capif-token";


#ifndef CAPIF_VERSION
#define CAPIF_VERSION  "dev"
#endif


static void
ct_usage(FILE *fp)
{
    fprintf(fp,
        "usage: %s --key PRIVATE.pem --alg ALG --invoker ID --scope SCOPE\n"
        "                   [options]\n"
        "\n"
        "Mints a CAPIF access token (a JWS in compact serialization) the way\n"
        "a CAPIF Core Function (CCF) does, signed with the CCF's private\n"
        "key, and prints it on stdout.  For trials, demos and tests: in\n"
        "production the CCF issues the tokens.\n"
        "\n"
        "The claims: ID in iss (see --invoker-claim), scope, iat, exp,\n"
        "a random jti and type \"access\", as the reference CCF (ETSI\n"
        "OpenCAPIF) sets them; nbf only with --nbf-offset.\n"
        "\n"
        "  --key FILE                  PEM private key (RSA or EC)\n"
        "  --alg RS256|RS384|RS512|ES256|ES384|ES512\n"
        "        also HS256|HS384|HS512 (the key file's bytes are the\n"
        "        secret) and none (no signature, --key not needed), for\n"
        "        negative tests; PS* and EdDSA are not supported by\n"
        "        libjwt 1.10\n"
        "  --invoker ID                the API invoker id\n"
        "  --invoker-claim iss|client_id|sub   claim for ID (default iss)\n"
        "  --scope SCOPE               e.g. '3gpp#aef-1:3gpp-monitoring-event'"
        "\n"
        "  --lifetime SECONDS          exp = iat + SECONDS (default 600,\n"
        "                              negative mints an expired token)\n"
        "  --iat OFFSET                iat = now + OFFSET (default 0)\n"
        "  --no-iat                    omit iat (exp is still computed)\n"
        "  --nbf-offset N              nbf = now + N\n"
        "  --kid KID                   kid header parameter\n"
        "  --jti ID                    jti (default: 32 random hex digits)\n"
        "  --type T | --no-type        type claim (default \"access\")\n"
        "  --claim NAME=STRING         string claim (repeatable)\n"
        "  --claim-num NAME=NUMBER     number claim (repeatable)\n"
        "  --claim-json NAME=JSON      any JSON value (repeatable)\n"
        "  --now EPOCH                 use EPOCH as the current time\n"
        "  --help, --version\n"
        "\n"
        "--claim* options are applied last and replace claims of the same\n"
        "name.  Exit status: 0 ok, 1 failure, 2 usage error.\n"
        "\n"
        "Example (a trial CCF key, as in the README's Quickstart):\n"
        "  openssl req -x509 -newkey rsa:2048 -nodes -days 365 \\\n"
        "      -subj /CN=ccf -keyout ccf.key -out ccf.crt\n"
        "  %s --key ccf.key --alg RS256 --invoker INV-1 \\\n"
        "      --scope '3gpp#aef-loc1:3gpp-monitoring-event'\n",
        ct_prog, ct_prog);
}


static int
ct_parse_ll(const char *opt, const char *s, long long *out)
{
    char       *end;
    long long   v;

    errno = 0;
    v = strtoll(s, &end, 10);

    if (errno != 0 || end == s || *end != '\0') {
        fprintf(stderr, "%s: --%s: not an integer: \"%s\"\n",
                ct_prog, opt, s);
        return -1;
    }

    *out = v;
    return 0;
}


/* overflow-checked addition for the claim times */
static int
ct_add(long long a, long long b, long long *out)
{
    if ((b > 0 && a > LLONG_MAX - b) || (b < 0 && a < LLONG_MIN - b)) {
        fprintf(stderr, "%s: time arithmetic overflows\n", ct_prog);
        return -1;
    }

    *out = a + b;
    return 0;
}


static int
ct_alg_supported(const char *name, jwt_alg_t *alg)
{
    static const char  *names[] = {
        "none", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
        "ES256", "ES384", "ES512", NULL
    };
    const char         **n;

    if (strncmp(name, "PS", 2) == 0 || strcmp(name, "EdDSA") == 0
        || strcmp(name, "Ed25519") == 0 || strcmp(name, "Ed448") == 0)
    {
        fprintf(stderr,
                "%s: --alg %s: libjwt 1.10 cannot sign with RSASSA-PSS or "
                "EdDSA; use RS*, ES* (or HS*/none for negative tests)\n",
                ct_prog, name);
        return -1;
    }

    for (n = names; *n != NULL; n++) {
        if (strcmp(name, *n) == 0) {
            *alg = jwt_str_alg(name);
            if (*alg == JWT_ALG_INVAL) {
                break;
            }
            return 0;
        }
    }

    fprintf(stderr, "%s: --alg %s: unknown algorithm\n", ct_prog, name);
    return -1;
}


/*
 * libjwt 1.10 signs ES* with whatever curve the key is on; a P-384 key
 * under "ES256" would give a token no verifier accepts for the reason the
 * test means.  The JWS signature is R||S, so its length tells the curve.
 */
static int
ct_check_ec_curve(const char *alg, const char *token)
{
    size_t       len, want;
    const char  *sig;

    if (strncmp(alg, "ES", 2) != 0) {
        return 0;
    }

    if (strcmp(alg, "ES256") == 0) {
        want = 86;              /* base64url of 64 bytes, P-256 */

    } else if (strcmp(alg, "ES384") == 0) {
        want = 128;             /* 96 bytes, P-384 */

    } else {
        want = 176;             /* 132 bytes, P-521 */
    }

    sig = strrchr(token, '.');
    len = (sig == NULL) ? 0 : strlen(sig + 1);

    if (len != want) {
        fprintf(stderr, "%s: the key's curve does not match --alg %s "
                "(ES256: P-256, ES384: P-384, ES512: P-521)\n",
                ct_prog, alg);
        return -1;
    }

    return 0;
}


static unsigned char *
ct_read_file(const char *path, size_t *len)
{
    FILE           *fp;
    size_t          n;
    unsigned char  *buf;

    fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "%s: %s: %s\n", ct_prog, path, strerror(errno));
        return NULL;
    }

    buf = malloc(CT_KEY_MAX + 1);
    if (buf == NULL) {
        fprintf(stderr, "%s: out of memory\n", ct_prog);
        fclose(fp);
        return NULL;
    }

    n = fread(buf, 1, CT_KEY_MAX + 1, fp);

    if (ferror(fp)) {
        fprintf(stderr, "%s: %s: read error\n", ct_prog, path);
        goto failed;
    }

    if (n > CT_KEY_MAX) {
        fprintf(stderr, "%s: %s: larger than %d bytes\n",
                ct_prog, path, CT_KEY_MAX);
        goto failed;
    }

    if (n == 0) {
        fprintf(stderr, "%s: %s: empty\n", ct_prog, path);
        goto failed;
    }

    fclose(fp);
    buf[n] = '\0';
    *len = n;
    return buf;

failed:

    fclose(fp);
    free(buf);
    return NULL;
}


static int
ct_random_hex(char *out, size_t bytes)
{
    static const char  hex[] = "0123456789abcdef";
    unsigned char      raw[64];
    size_t             i;
    FILE              *fp;

    if (bytes > sizeof(raw)) {
        return -1;
    }

    fp = fopen("/dev/urandom", "rb");
    if (fp == NULL) {
        fprintf(stderr, "%s: /dev/urandom: %s\n", ct_prog, strerror(errno));
        return -1;
    }

    if (fread(raw, 1, bytes, fp) != bytes) {
        fprintf(stderr, "%s: /dev/urandom: short read\n", ct_prog);
        fclose(fp);
        return -1;
    }

    fclose(fp);

    for (i = 0; i < bytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 0x0f];
    }

    out[2 * bytes] = '\0';
    return 0;
}


static int
ct_set(json_t *claims, const char *name, json_t *value)
{
    if (value == NULL) {
        fprintf(stderr, "%s: out of memory\n", ct_prog);
        return -1;
    }

    /* json_object_set_new() takes the reference even when it fails */
    if (json_object_set_new(claims, name, value) != 0) {
        fprintf(stderr, "%s: cannot set claim \"%s\"\n", ct_prog, name);
        return -1;
    }

    return 0;
}


/* "name=value" from a --claim* option: value is returned, name cut at '=' */
static char *
ct_split_claim(const char *opt, char *arg)
{
    char  *eq;

    eq = strchr(arg, '=');

    if (eq == NULL || eq == arg) {
        fprintf(stderr, "%s: --%s: expected NAME=VALUE, got \"%s\"\n",
                ct_prog, opt, arg);
        return NULL;
    }

    *eq = '\0';
    return eq + 1;
}


static json_t *
ct_number(const char *name, const char *s)
{
    char        *end;
    double       d;
    long long    ll;

    errno = 0;
    ll = strtoll(s, &end, 10);

    if (end != s && *end == '\0') {
        if (errno != 0) {
            fprintf(stderr, "%s: --claim-num %s: out of range: \"%s\"\n",
                    ct_prog, name, s);
            return NULL;
        }

        return json_integer((json_int_t) ll);
    }

    errno = 0;
    d = strtod(s, &end);

    if (errno != 0 || end == s || *end != '\0' || d != d
        || d > 1.7976931348623157e308 || d < -1.7976931348623157e308)
    {
        fprintf(stderr, "%s: --claim-num %s: not a finite number: \"%s\"\n",
                ct_prog, name, s);
        return NULL;
    }

    return json_real(d);
}


/*
 * The --claim* options, in command line order, after the standard claims,
 * so that they can replace any of them (tests use that for malformed
 * tokens).
 */
static int
ct_user_claims(int argc, char **argv, json_t *claims)
{
    int            c;
    char          *value, *arg;
    json_t        *v;
    json_error_t   err;

    optind = 1;

    for ( ;; ) {
        c = getopt_long(argc, argv, ":", ct_long_opts, NULL);
        if (c == -1) {
            break;
        }

        if (c != CT_OPT_CLAIM && c != CT_OPT_CLAIM_NUM
            && c != CT_OPT_CLAIM_JSON)
        {
            continue;
        }

        arg = optarg;

        switch (c) {

        case CT_OPT_CLAIM:
            value = ct_split_claim("claim", arg);
            if (value == NULL) {
                return CT_EXIT_USAGE;
            }

            v = json_string(value);
            if (v == NULL) {
                fprintf(stderr, "%s: --claim %s: not valid UTF-8\n",
                        ct_prog, arg);
                return CT_EXIT_USAGE;
            }
            break;

        case CT_OPT_CLAIM_NUM:
            value = ct_split_claim("claim-num", arg);
            if (value == NULL) {
                return CT_EXIT_USAGE;
            }

            v = ct_number(arg, value);
            if (v == NULL) {
                return CT_EXIT_USAGE;
            }
            break;

        default: /* CT_OPT_CLAIM_JSON */
            value = ct_split_claim("claim-json", arg);
            if (value == NULL) {
                return CT_EXIT_USAGE;
            }

            v = json_loads(value, JSON_DECODE_ANY, &err);
            if (v == NULL) {
                fprintf(stderr, "%s: --claim-json %s: invalid JSON: %s\n",
                        ct_prog, arg, err.text);
                return CT_EXIT_USAGE;
            }
            break;
        }

        if (ct_set(claims, arg, v) != 0) {
            return CT_EXIT_FAILURE;
        }
    }

    return 0;
}


static int
ct_parse_opts(int argc, char **argv, ct_opts_t *o)
{
    int  c;

    memset(o, 0, sizeof(ct_opts_t));
    o->invoker_claim = "iss";
    o->lifetime = 600;
    o->type = "access";

    opterr = 0;

    for ( ;; ) {
        c = getopt_long(argc, argv, ":", ct_long_opts, NULL);
        if (c == -1) {
            break;
        }

        switch (c) {

        case CT_OPT_KEY:
            o->key_file = optarg;
            break;

        case CT_OPT_ALG:
            o->alg_name = optarg;
            break;

        case CT_OPT_INVOKER:
            o->invoker = optarg;
            break;

        case CT_OPT_INVOKER_CLAIM:
            if (strcmp(optarg, "iss") != 0
                && strcmp(optarg, "client_id") != 0
                && strcmp(optarg, "sub") != 0)
            {
                fprintf(stderr, "%s: --invoker-claim must be iss, client_id "
                        "or sub\n", ct_prog);
                return -1;
            }
            o->invoker_claim = optarg;
            break;

        case CT_OPT_SCOPE:
            o->scope = optarg;
            break;

        case CT_OPT_LIFETIME:
            if (ct_parse_ll("lifetime", optarg, &o->lifetime) != 0) {
                return -1;
            }
            break;

        case CT_OPT_IAT:
            if (ct_parse_ll("iat", optarg, &o->iat_offset) != 0) {
                return -1;
            }
            break;

        case CT_OPT_NO_IAT:
            o->no_iat = 1;
            break;

        case CT_OPT_NBF_OFFSET:
            if (ct_parse_ll("nbf-offset", optarg, &o->nbf_offset) != 0) {
                return -1;
            }
            o->has_nbf = 1;
            break;

        case CT_OPT_KID:
            o->kid = optarg;
            break;

        case CT_OPT_JTI:
            o->jti = optarg;
            break;

        case CT_OPT_TYPE:
            o->type = optarg;
            break;

        case CT_OPT_NO_TYPE:
            o->type = NULL;
            break;

        case CT_OPT_CLAIM:
        case CT_OPT_CLAIM_NUM:
        case CT_OPT_CLAIM_JSON:
            /* applied by ct_user_claims() */
            break;

        case CT_OPT_NOW:
            if (ct_parse_ll("now", optarg, &o->now) != 0) {
                return -1;
            }
            o->has_now = 1;
            break;

        case CT_OPT_HELP:
            ct_usage(stdout);
            exit(0);

        case CT_OPT_VERSION:
            printf("capif-token %s\n", CAPIF_VERSION);
            exit(0);

        case ':':
            fprintf(stderr, "%s: %s needs an argument\n",
                    ct_prog, argv[optind - 1]);
            return -1;

        default:
            fprintf(stderr, "%s: unknown option \"%s\"\n",
                    ct_prog, argv[optind - 1]);
            return -1;
        }
    }

    if (optind != argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n",
                ct_prog, argv[optind]);
        return -1;
    }

    if (o->alg_name == NULL) {
        fprintf(stderr, "%s: --alg is required\n", ct_prog);
        return -1;
    }

    if (o->key_file == NULL && strcmp(o->alg_name, "none") != 0) {
        fprintf(stderr, "%s: --key is required\n", ct_prog);
        return -1;
    }

    return 0;
}


static int
ct_std_claims(ct_opts_t *o, json_t *claims)
{
    char       jti[2 * CT_JTI_BYTES + 1];
    long long  now, iat, exp, nbf;

    now = o->has_now ? o->now : (long long) time(NULL);

    if (ct_add(now, o->iat_offset, &iat) != 0
        || ct_add(iat, o->lifetime, &exp) != 0)
    {
        return -1;
    }

    if (o->invoker != NULL
        && ct_set(claims, o->invoker_claim, json_string(o->invoker)) != 0)
    {
        return -1;
    }

    if (o->scope != NULL
        && ct_set(claims, "scope", json_string(o->scope)) != 0)
    {
        return -1;
    }

    if (!o->no_iat
        && ct_set(claims, "iat", json_integer((json_int_t) iat)) != 0)
    {
        return -1;
    }

    if (o->has_nbf) {
        if (ct_add(now, o->nbf_offset, &nbf) != 0
            || ct_set(claims, "nbf", json_integer((json_int_t) nbf)) != 0)
        {
            return -1;
        }
    }

    if (ct_set(claims, "exp", json_integer((json_int_t) exp)) != 0) {
        return -1;
    }

    if (o->jti == NULL) {
        if (ct_random_hex(jti, CT_JTI_BYTES) != 0
            || ct_set(claims, "jti", json_string(jti)) != 0)
        {
            return -1;
        }

    } else if (ct_set(claims, "jti", json_string(o->jti)) != 0) {
        return -1;
    }

    if (o->type != NULL
        && ct_set(claims, "type", json_string(o->type)) != 0)
    {
        return -1;
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int             rc, err;
    char           *json, *token;
    size_t          key_len;
    jwt_t          *jwt;
    json_t         *claims;
    jwt_alg_t       alg;
    ct_opts_t       o;
    unsigned char  *key;

    if (ct_parse_opts(argc, argv, &o) != 0) {
        fprintf(stderr, "try '%s --help'\n", ct_prog);
        return CT_EXIT_USAGE;
    }

    if (ct_alg_supported(o.alg_name, &alg) != 0) {
        return CT_EXIT_USAGE;
    }

    if (o.invoker != NULL && strlen(o.invoker) == 0) {
        fprintf(stderr, "%s: --invoker must not be empty\n", ct_prog);
        return CT_EXIT_USAGE;
    }

    claims = json_object();
    if (claims == NULL) {
        fprintf(stderr, "%s: out of memory\n", ct_prog);
        return CT_EXIT_FAILURE;
    }

    rc = CT_EXIT_FAILURE;
    key = NULL;
    key_len = 0;
    jwt = NULL;
    json = NULL;
    token = NULL;

    if (ct_std_claims(&o, claims) != 0) {
        goto done;
    }

    err = ct_user_claims(argc, argv, claims);
    if (err != 0) {
        rc = err;
        goto done;
    }

    if (alg != JWT_ALG_NONE) {
        key = ct_read_file(o.key_file, &key_len);
        if (key == NULL) {
            goto done;
        }

        if (key_len > INT_MAX) {
            fprintf(stderr, "%s: key too large\n", ct_prog);
            goto done;
        }
    }

    err = jwt_new(&jwt);
    if (err != 0) {
        fprintf(stderr, "%s: jwt_new: %s\n", ct_prog, strerror(err));
        jwt = NULL;
        goto done;
    }

    err = jwt_set_alg(jwt, alg, key, (int) key_len);
    if (err != 0) {
        fprintf(stderr, "%s: cannot use --alg %s with %s: %s\n", ct_prog,
                o.alg_name, o.key_file ? o.key_file : "(no key)",
                strerror(err));
        goto done;
    }

    json = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (json == NULL) {
        fprintf(stderr, "%s: cannot serialize the claims\n", ct_prog);
        goto done;
    }

    err = jwt_add_grants_json(jwt, json);
    if (err != 0) {
        fprintf(stderr, "%s: jwt_add_grants_json: %s\n",
                ct_prog, strerror(err));
        goto done;
    }

    if (o.kid != NULL) {
        err = jwt_add_header(jwt, "kid", o.kid);
        if (err != 0) {
            fprintf(stderr, "%s: cannot set kid: %s\n",
                    ct_prog, strerror(err));
            goto done;
        }
    }

    errno = 0;
    token = jwt_encode_str(jwt);
    if (token == NULL) {
        fprintf(stderr, "%s: signing failed (does %s hold a private key "
                "for %s?)%s%s\n", ct_prog,
                o.key_file ? o.key_file : "(no key)", o.alg_name,
                errno ? ": " : "", errno ? strerror(errno) : "");
        goto done;
    }

    if (ct_check_ec_curve(o.alg_name, token) != 0) {
        goto done;
    }

    if (printf("%s\n", token) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "%s: cannot write the token: %s\n",
                ct_prog, strerror(errno));
        goto done;
    }

    rc = 0;

done:

    free(token);
    free(json);
    jwt_free(jwt);
    json_decref(claims);

    if (key != NULL) {
        memset(key, 0, key_len);
        free(key);
    }

    return rc;
}

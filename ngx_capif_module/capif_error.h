/*
 * Copyright (C) ngx_capif_module authors
 *
 * Outcome of a core decision.  The core never talks HTTP; the glue maps
 * each outcome to a status and an RFC 6750 error code.
 */

#ifndef CAPIF_ERROR_H
#define CAPIF_ERROR_H


typedef enum {
    CAPIF_ALLOW = 0,
    CAPIF_INVALID_REQUEST,      /* 400 invalid_request */
    CAPIF_INVALID_TOKEN,        /* 401 invalid_token */
    CAPIF_INSUFFICIENT_SCOPE,   /* 403 insufficient_scope */
    CAPIF_SERVER_ERROR,         /* 500, never an allow */
    CAPIF_NO_TOKEN              /* 401 without an error code (RFC 6750) */
} capif_outcome_t;


typedef struct {
    capif_outcome_t   outcome;
    const char       *cause;    /* stable ProblemDetails cause, static */
    const char       *detail;   /* human-readable reason, static */
} capif_error_t;


/* sets *err and evaluates to -1, so callers can "return capif_fail(...)" */
#define capif_fail(err, o, c, d)                                           \
    ((err)->outcome = (o), (err)->cause = (c), (err)->detail = (d), -1)


#endif /* CAPIF_ERROR_H */

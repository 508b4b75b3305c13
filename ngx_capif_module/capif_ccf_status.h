/*
 * Copyright (C) ngx_capif_module authors
 *
 * What the CCF says about an invoker: TS 29.222 CAPIF_Security_API
 * Obtain_API_Invoker_Info answers a ServiceSecurity whose securityInfo
 * lists, per AEF and service API, what the invoker is authorized for.
 */

#ifndef CAPIF_CCF_STATUS_H
#define CAPIF_CCF_STATUS_H

#include <stddef.h>


/*
 * 1 if body (a ServiceSecurity, JSON) holds a securityInfo entry with
 * exactly this aefId and apiId, 0 if it holds none, -1 if body is not a
 * ServiceSecurity (the reason is in errbuf).  Unknown members, and entries
 * that name an interface instead of an AEF, are ignored.
 */
int capif_service_security_grants(const unsigned char *body, size_t len,
    const char *aef_id, size_t aef_len, const char *api_id, size_t api_len,
    char *errbuf, size_t errlen);

/*
 * Percent-encodes in as one URI path segment: every byte but RFC 3986
 * unreserved ones (ALPHA DIGIT - . _ ~), "/" and "%" included.  out holds
 * 3 * len bytes; returns the length written.
 */
size_t capif_pct_encode_segment(const unsigned char *in, size_t len,
    unsigned char *out);


#endif /* CAPIF_CCF_STATUS_H */

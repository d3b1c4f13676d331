/*
 * cli_json_string (src/cli/json.c) on arbitrary bytes.
 * Properties: the output is exactly one valid JSON string (RFC 8259: no raw
 * control characters, only the defined escapes, raw bytes well-formed UTF-8,
 * \u surrogates paired), and it decodes back to the input: byte-identical
 * where the input is well-formed UTF-8, and each byte of an ill-formed
 * sequence comes back as the code point U+00XX of its value.
 */
#include "fuzz.h"
#include "cli.h"

/* Length of a well-formed UTF-8 sequence at p (Unicode 15, table 3-7), 0 if
 * none.  Written from the table, independently of json.c's decoder. */
static size_t wf_len(const unsigned char *p, size_t avail)
{
	unsigned char b0 = p[0], lo = 0x80, hi = 0xBF;
	size_t n;
	if (b0 <= 0x7F)
		return 1;
	if (b0 >= 0xC2 && b0 <= 0xDF)
		n = 2;
	else if (b0 == 0xE0)
		n = 3, lo = 0xA0;
	else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF)
		n = 3;
	else if (b0 == 0xED)
		n = 3, hi = 0x9F;
	else if (b0 == 0xF0)
		n = 4, lo = 0x90;
	else if (b0 >= 0xF1 && b0 <= 0xF3)
		n = 4;
	else if (b0 == 0xF4)
		n = 4, hi = 0x8F;
	else
		return 0;
	if (avail < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

static size_t put_utf8(unsigned char *o, unsigned long cp)
{
	if (cp < 0x80)
		return o[0] = (unsigned char)cp, 1;
	if (cp < 0x800)
		return o[0] = (unsigned char)(0xC0 | cp >> 6), o[1] = (unsigned char)(0x80 | (cp & 0x3F)), 2;
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

static int hex4(const unsigned char *p, unsigned long *out)
{
	unsigned long v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned long)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned long)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Validate one JSON string literal spanning all of j[0..n) and decode it
 * into dec (UTF-8).  Returns the decoded length, or -1 with *why set. */
static long json_decode(const unsigned char *j, size_t n, unsigned char *dec, const char **why)
{
	size_t i = 1, o = 0;
	if (n < 2 || j[0] != '"')
		return *why = "does not start with a quote", -1;
	while (i < n) {
		unsigned char c = j[i];
		if (c == '"')
			break;
		if (c < 0x20)
			return *why = "raw control character", -1;
		if (c != '\\') {
			size_t k = wf_len(j + i, n - i);
			if (!k)
				return *why = "raw bytes are not well-formed UTF-8", -1;
			memcpy(dec + o, j + i, k);
			o += k, i += k;
			continue;
		}
		if (++i >= n)
			return *why = "backslash at the end", -1;
		switch (j[i++]) {
		case '"': dec[o++] = '"'; break;
		case '\\': dec[o++] = '\\'; break;
		case '/': dec[o++] = '/'; break;
		case 'b': dec[o++] = '\b'; break;
		case 'f': dec[o++] = '\f'; break;
		case 'n': dec[o++] = '\n'; break;
		case 'r': dec[o++] = '\r'; break;
		case 't': dec[o++] = '\t'; break;
		case 'u': {
			unsigned long cp, lo;
			if (i + 4 > n || hex4(j + i, &cp) < 0)
				return *why = "bad \\u escape", -1;
			i += 4;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return *why = "lone low surrogate", -1;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (i + 6 > n || j[i] != '\\' || j[i + 1] != 'u' || hex4(j + i + 2, &lo) < 0 ||
				    lo < 0xDC00 || lo > 0xDFFF)
					return *why = "unpaired high surrogate", -1;
				i += 6;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			o += put_utf8(dec + o, cp);
			break;
		}
		default:
			return *why = "unknown escape", -1;
		}
	}
	if (i != n - 1)
		return *why = i >= n ? "no closing quote" : "bytes after the closing quote", -1;
	return (long)o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size), *out = NULL;
	size_t in_len = strlen(in), out_len = 0, e = 0;
	unsigned char *dec, *expect;
	const char *why = "";
	long dec_len;
	int wellformed = 1;
	FILE *f = open_memstream(&out, &out_len);

	FUZZ_CHECK(f != NULL, "open_memstream");
	cli_json_string(f, in);
	FUZZ_CHECK(fclose(f) == 0, "fclose");
	FUZZ_CHECK(strlen(out) == out_len, "a NUL byte in the output");

	/* every input byte becomes at most 6 output bytes (\u00XX) -> 2 decoded */
	dec = malloc(2 * in_len + 4);
	expect = malloc(2 * in_len + 4);
	FUZZ_CHECK(dec && expect, "malloc");
	dec_len = json_decode((const unsigned char *)out, out_len, dec, &why);
	FUZZ_CHECK(dec_len >= 0, "not a valid JSON string (%s): %s", why, out);

	/* the expected decoding: well-formed sequences as is, other bytes as U+00XX */
	for (size_t i = 0; i < in_len;) {
		size_t k = wf_len((const unsigned char *)in + i, in_len - i);
		if (k) {
			memcpy(expect + e, in + i, k);
			e += k, i += k;
		} else {
			wellformed = 0;
			e += put_utf8(expect + e, (unsigned char)in[i++]);
		}
	}
	FUZZ_CHECK((size_t)dec_len == e && memcmp(dec, expect, e) == 0,
		"does not round-trip: %s -> %s", in, out);
	if (wellformed)
		FUZZ_CHECK((size_t)dec_len == in_len && memcmp(dec, in, in_len) == 0,
			"well-formed UTF-8 input is not byte-identical after a round trip");
	free(dec);
	free(expect);
	free(out);
	free(in);
	return 0;
}

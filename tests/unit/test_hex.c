/* test_hex - encoding and strict decoding. */
#include "unit.h"
#include "hex.h"

static void
test_roundtrip(void **state)
{
	unsigned char in[256], out[256];
	char text[513];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	hex_encode(text, in, sizeof(in));
	assert_int_equal(strlen(text), 512);
	assert_memory_equal(text, "000102", 6);
	assert_string_equal(text + 506, "fdfeff");
	assert_int_equal(hex_decode(out, sizeof(out), text, 512), 256);
	assert_memory_equal(in, out, sizeof(in));
	hex_encode(text, in, 0);
	assert_string_equal(text, "");
}

static void
test_decode_rejects(void **state)
{
	unsigned char out[4];

	(void)state;
	assert_int_equal(hex_decode(out, sizeof(out), "ABcd", 4), 2);	/* either case */
	assert_int_equal(out[0], 0xab);
	assert_int_equal(hex_decode(out, sizeof(out), "abc", 3), -1);	/* odd */
	assert_int_equal(hex_decode(out, sizeof(out), "zz", 2), -1);	/* not hex */
	assert_int_equal(hex_decode(out, sizeof(out), "0g", 2), -1);
	assert_int_equal(hex_decode(out, sizeof(out), "0011223344", 10), -1); /* too long */
	assert_int_equal(hex_decode(out, sizeof(out), "00112233", 8), 4);	/* exactly fits */
	assert_int_equal(hex_decode(out, sizeof(out), "", 0), 0);
	assert_int_equal(hex_value('F'), 15);
	assert_int_equal(hex_value('/'), -1);
	assert_int_equal(hex_value(':'), -1);
	assert_int_equal(hex_value('G'), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_decode_rejects),
	};
	return cmocka_run_group_tests_name("hex", tests, NULL, NULL);
}

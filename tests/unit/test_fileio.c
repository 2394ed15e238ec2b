/* test_fileio - whole writes and bounded whole reads over a pipe. */
#include "unit.h"
#include <errno.h>
#include <unistd.h>
#include "fileio.h"

static void
test_write_read(void **state)
{
	struct buf b;
	char data[3000];
	int p[2];

	(void)state;
	memset(data, 'x', sizeof(data));
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fileio_write_all(p[1], data, sizeof(data)), 0);
	close(p[1]);
	buf_init(&b, 4096);
	assert_int_equal(fileio_read_all(p[0], &b), 0);
	assert_int_equal(b.len, sizeof(data));
	close(p[0]);
	buf_free(&b);
}

static void
test_read_cap(void **state)
{
	struct buf b;
	char data[100];
	int p[2];

	(void)state;
	memset(data, 'y', sizeof(data));
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fileio_write_all(p[1], data, sizeof(data)), 0);
	close(p[1]);
	buf_init(&b, 99);			/* one byte short */
	assert_int_equal(fileio_read_all(p[0], &b), -1);
	assert_int_equal(errno, EFBIG);
	close(p[0]);
	buf_free(&b);
	assert_int_equal(fileio_write_all(-1, data, 1), -1);
	assert_int_equal(errno, EBADF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_read_cap),
	};
	return cmocka_run_group_tests_name("fileio", tests, NULL, NULL);
}

/* test_slots - ids for live sessions: stale ids never find a reused slot. */
#include "unit.h"
#include "slots.h"

static void
test_ids(void **state)
{
	struct slots t = { NULL, NULL, 0 };
	int a, b, c;
	uint64_t ia, ib, ic;
	size_t i;

	(void)state;
	ia = slots_add(&t, &a);
	ib = slots_add(&t, &b);
	assert_true(ia != 0 && ib != 0 && ia != ib);
	assert_ptr_equal(slots_get(&t, ia), &a);
	assert_ptr_equal(slots_get(&t, ib), &b);
	slots_remove(&t, ia);
	assert_null(slots_get(&t, ia));
	ic = slots_add(&t, &c);			/* reuses a's slot ... */
	assert_int_equal((uint32_t)ic, (uint32_t)ia);
	assert_true(ic != ia);			/* ... with a new generation */
	assert_null(slots_get(&t, ia));		/* a late answer for a finds nothing */
	assert_ptr_equal(slots_get(&t, ic), &c);
	assert_null(slots_get(&t, 0));
	assert_null(slots_get(&t, (uint64_t)1 << 32 | 99999));
	slots_remove(&t, 12345);		/* bogus: harmless */
	for (i = 0; i < 200; i++)		/* grows past one chunk */
		assert_true(slots_add(&t, &a) != 0);
	assert_ptr_equal(slots_get(&t, ib), &b);
	free(t.v);
	free(t.gen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
	};
	return cmocka_run_group_tests_name("slots", tests, NULL, NULL);
}

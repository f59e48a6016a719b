/*
 * suite.h - what every libcheck test program shares: registering tests
 * (add_tests, add_loop_tests), and the end of main() (run_suite).
 */
#ifndef SHUNT_TEST_SUITE_H
#define SHUNT_TEST_SUITE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * add_tests(tc, t1, t2, ...): tcase_add_test(tc, t) for each test, in order.
 * add_loop_tests(tc, loops, t1, t2, ...): tcase_add_loop_test(tc, t, 0, loops)
 * for each: every test runs loops times, its _i going 0 .. loops - 1.  Give
 * loops a name that says what _i means to those tests.
 *
 *     TCase *tc = tcase_create("arp");
 *     add_tests(tc, arp_request_answered, arp_for_another_address_ignored);
 *     suite_add_tcase(s, tc);
 *
 * The tests are START_TEST names; the list is as long as what it holds.
 */
#define add_tests(tc, ...) add_loop_tests(tc, 1, __VA_ARGS__)
#define add_loop_tests(tc, loops, ...) \
    suite_add_tests_((tc), (loops), (const TTest *const[]){ __VA_ARGS__, NULL })

static inline void suite_add_tests_(TCase *tc, int loops, const TTest *const *tests)
{
    if (loops < 1) {            /* such a test would never run */
        fprintf(stderr, "add_loop_tests: %s: %d loops\n", tests[0]->name, loops);
        abort();
    }
    for (; *tests != NULL; tests++)
        tcase_add_loop_test(tc, *tests, 0, loops);
}

/* Run the suite, and exit as make check reads it (0: all passed). */
static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);

    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* SHUNT_TEST_SUITE_H */

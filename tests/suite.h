/*
 * suite.h - the end of every libcheck test program: run the suite, and
 * exit as make check reads it (0: all passed).
 */
#ifndef SHUNT_TEST_SUITE_H
#define SHUNT_TEST_SUITE_H

#include <check.h>
#include <stdlib.h>

static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);

    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* SHUNT_TEST_SUITE_H */

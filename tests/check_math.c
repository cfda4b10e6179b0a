#include <check.h>
#include <stdlib.h>
#include "lang/ad.h"
START_TEST(t_placeholder) { ck_assert_int_eq(1, 1); }
END_TEST
int main(void)
{
  Suite *s = suite_create("math");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, t_placeholder);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int nf = srunner_ntests_failed(r);
  srunner_free(r);
  return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}

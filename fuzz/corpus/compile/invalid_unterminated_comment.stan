// error: unterminated_comment.stan:6:1: error: unterminated comment: '/*' without a closing '*/'
// status: VI_EPARSE
data {
  int N;
}
/* this comment
   never ends

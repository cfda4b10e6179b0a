/* summary_json.c: --summary-json, the report of summary.c in machine-readable form (built
 * with jansson): the configuration, why the fit stopped (and whether it was interrupted),
 * the last iteration's diagnostics, the final decomposition with standard errors and
 * exact/estimated labels, k-hat with its word, q itself (mean and sd per unconstrained
 * coordinate), Sigma_LR with --covariance lrvb, the resampling with --resample psis, and
 * the summary of every output.  JSON has no NaN or infinity: a value
 * that is not available is null. */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include <jansson.h>

#include "cli/cli.h"

#define JSON_COV_MAX 500   /* the full D x D Sigma_LR up to this D (2 MB of JSON) */

static json_t *num(double x)
{
  return isfinite(x) ? json_real(x) : json_null();
}

static json_t *diag_json(const vi_diag *d)
{
  json_t *o = json_object();
  json_object_set_new(o, "iter", json_integer((json_int_t)d->iter));
  json_object_set_new(o, "elbo", num(d->elbo));
  json_object_set_new(o, "expected_log_joint", num(d->expected_log_joint));
  json_object_set_new(o, "entropy", num(d->entropy));
  json_object_set_new(o, "expected_log_lik", num(d->expected_log_lik));
  json_object_set_new(o, "kl_prior", num(d->kl_prior));
  json_object_set_new(o, "log_evidence", num(d->log_evidence));
  json_object_set_new(o, "log_evidence_se", num(d->log_evidence_se));
  json_object_set_new(o, "log_evidence_exact", json_boolean(d->log_evidence_exact));
  json_object_set_new(o, "kl", num(d->kl));
  json_object_set_new(o, "grad_norm", num(d->grad_norm));
  json_object_set_new(o, "step", num(d->step));
  json_object_set_new(o, "n_fevals", json_integer((json_int_t)d->n_fevals));
  json_object_set_new(o, "n_gevals", json_integer((json_int_t)d->n_gevals));
  json_object_set_new(o, "seconds", num(d->seconds));
  json_object_set_new(o, "draws", json_integer((json_int_t)d->draws));
  json_object_set_new(o, "n_points", json_integer((json_int_t)d->n_points));
  json_object_set_new(o, "draws_shift", num(d->draws_shift));
  return o;
}

static json_t *final_json(const vi_final *fin)
{
  json_t *o = json_object();
  json_object_set_new(o, "draws", json_integer((json_int_t)fin->draws));
  json_object_set_new(o, "elbo", num(fin->elbo));
  json_object_set_new(o, "elbo_se", num(fin->elbo_se));
  json_object_set_new(o, "log_evidence", num(fin->log_evidence));
  json_object_set_new(o, "log_evidence_se", num(fin->log_evidence_se));
  json_object_set_new(o, "log_evidence_exact", json_boolean(fin->log_evidence_exact));
  json_object_set_new(o, "kl", num(fin->kl));
  json_object_set_new(o, "kl_se", num(fin->kl_se));
  json_object_set_new(o, "khat", num(fin->khat));
  json_object_set_new(o, "khat_meaning", json_string(cli_khat_word(fin->khat)));
  json_object_set_new(o, "kl_forward", num(fin->kl_forward));
  json_object_set_new(o, "kl_forward_reliable", json_boolean(fin->kl_forward_reliable));
  json_object_set_new(o, "expected_log_lik", num(fin->expected_log_lik));
  json_object_set_new(o, "kl_prior", num(fin->kl_prior));
  return o;
}

int cli_summary_json_write(FILE *fp, const cli_config *cfg, const vi_program *p, vi_fit *f,
                           const cli_outcome *o, const cli_draws *d)
{
  const vi_options *opt = vi_fit_options(f);
  const vi_model *m = vi_fit_model(f);
  json_t *root = json_object();

  json_object_set_new(root, "vi_version", json_string(PACKAGE_VERSION));
  json_object_set_new(root, "model", json_string(cfg->model_path));
  json_object_set_new(root, "data", cfg->data_path ? json_string(cfg->data_path) : json_null());

  json_t *jo = json_object();
  json_object_set_new(jo, "method", json_string(cli_method_name(opt->estimator)));
  json_object_set_new(jo, "optimizer", json_string(cli_optimizer_name(opt->optimizer)));
  /* what ran: the final M (adaptive M doubles it from draws_start) */
  const vi_diag *cur = vi_fit_diag(f);
  json_object_set_new(jo, "draws", json_integer((json_int_t)(cur ? cur->draws : opt->draws)));
  json_object_set_new(jo, "draws_start", json_integer((json_int_t)opt->draws));
  json_object_set_new(jo, "seed", json_integer((json_int_t)opt->seed));
  json_object_set_new(jo, "max_iter", json_integer((json_int_t)opt->max_iter));
  json_object_set_new(jo, "tol_grad", num(opt->tol_grad));
  json_object_set_new(jo, "tol_rel_obj", num(opt->tol_rel_obj));
  json_object_set_new(jo, "tol_abs_obj", num(opt->tol_abs_obj));
  json_object_set_new(jo, "step_size", num(opt->step_size));
  json_object_set_new(jo, "standardize_draws", json_boolean(opt->standardize_draws));
  json_object_set_new(jo, "draws_max", json_integer((json_int_t)opt->draws_max));
  /* the start the fit took (vi_fit_init_kind), not only the one asked for */
  json_object_set_new(jo, "init", json_string(cli_init_name(vi_fit_init_kind(f))));
  json_object_set_new(jo, "init_requested",
                      json_string(opt->init_mu ? "file" : cli_init_name(opt->init)));
  json_object_set_new(jo, "init_iterations",
                      json_integer((json_int_t)vi_fit_init_iterations(f)));
  json_object_set_new(jo, "starts", opt->starts == VI_STARTS_AUTO ? json_string("auto")
                                    : json_integer((json_int_t)opt->starts));
  json_object_set_new(jo, "family", json_string(vi_family_name(vi_fit_family(f))));
  json_object_set_new(jo, "eval_draws", json_integer((json_int_t)opt->eval_draws));
  json_object_set_new(jo, "eval_every", json_integer((json_int_t)opt->eval_every));
  json_object_set_new(jo, "output_draws", json_integer((json_int_t)cfg->output_draws));
  json_object_set_new(jo, "covariance", json_string(cfg->lrvb ? "lrvb" : "meanfield"));
  json_object_set_new(jo, "resample", json_string(cfg->resample ? "psis" : "none"));
  json_object_set_new(jo, "minibatch", json_integer((json_int_t)opt->minibatch));
  json_object_set_new(root, "options", jo);
  /* --minibatch: what the progress values (last_iteration) were estimated on; "final"
   * is always on the whole data */
  json_t *mb = json_null();
  if (opt->minibatch) {
    mb = json_object();
    json_object_set_new(mb, "rows_per_step", json_integer((json_int_t)opt->minibatch));
    json_object_set_new(mb, "rows", json_integer((json_int_t)cfg->minibatch_of));
    json_object_set_new(mb, "ranks", json_integer((json_int_t)cfg->minibatch_ranks));
    json_object_set_new(mb, "by", json_string(cfg->shard_by));
    json_object_set_new(mb, "iterations", json_string("minibatch estimates"));
    json_object_set_new(mb, "final", json_string("whole data"));
  }
  json_object_set_new(root, "minibatch", mb);

  json_object_set_new(root, "status", json_string(cli_outcome_word(o)));
  /* an interrupted fit never ran its stop test: say so, not "running" */
  json_object_set_new(root, "stop_reason",
                      json_string(o->interrupted ? "interrupted"
                                                 : vi_stop_reason_string(o->reason)));
  json_object_set_new(root, "interrupted", json_boolean(o->interrupted));
  json_object_set_new(root, "reliable", json_boolean(!o->unreliable));
  json_object_set_new(root, "nonfinite_draws", json_integer((json_int_t)o->nonfinite));
  json_object_set_new(root, "exit_code", json_integer(o->exit_code));
  json_object_set_new(root, "dim", json_integer((json_int_t)vi_fit_dim(f)));
  /* the compiler's warnings, as printed on stderr */
  json_t *warn = json_array();
  for (size_t i = 0; i < vi_program_n_warnings(p); i++)
    json_array_append_new(warn, json_string(vi_program_warning(p, i)));
  json_object_set_new(root, "warnings", warn);

  const vi_diag *last = vi_fit_diag(f);
  json_object_set_new(root, "iterations", json_integer(last ? (json_int_t)last->iter : 0));
  json_object_set_new(root, "last_iteration", last ? diag_json(last) : json_null());
  json_object_set_new(root, "final", o->have_final ? final_json(&o->final) : json_null());

  /* The Laplace start's mode searches and the distinct modes they found. */
  json_t *modes = json_array();
  for (size_t k = 0; k < vi_fit_modes(f); k++) {
    const vi_mode *md = vi_fit_mode(f, k);
    json_t *r = json_object();
    json_object_set_new(r, "elbo", num(md->elbo));
    json_object_set_new(r, "searches", json_integer((json_int_t)md->starts));
    json_t *mm = json_array();
    for (size_t i = 0; i < vi_fit_dim(f); i++)
      json_array_append_new(mm, num(md->mean[i]));
    json_object_set_new(r, "mean", mm);
    json_array_append_new(modes, r);
  }
  json_t *start = json_object();
  json_object_set_new(start, "searches", json_integer((json_int_t)vi_fit_start_searches(f)));
  json_object_set_new(start, "modes", modes);
  json_object_set_new(start, "multimodal",
                      json_boolean(vi_fit_modes(f) > 1 &&
                                   vi_fit_mode(f, 0)->elbo - vi_fit_mode(f, 1)->elbo <
                                       CLI_MULTIMODAL_NATS));
  json_object_set_new(start, "mode_correlation", num(vi_fit_mode_correlation(f)));
  json_object_set_new(root, "start", start);

  /* q itself, per unconstrained coordinate. */
  json_t *q = json_object();
  json_t *qn = json_array(), *qm = json_array(), *qs = json_array();
  const double *mu = vi_fit_mean(f), *sd = vi_fit_sd(f);
  for (size_t i = 0; i < vi_fit_dim(f); i++) {
    if (m->names)
      json_array_append_new(qn, json_string(m->names[i]));
    json_array_append_new(qm, num(mu[i]));
    json_array_append_new(qs, num(sd[i]));
  }
  if (m->names)
    json_object_set_new(q, "names", qn);
  else
    json_decref(qn);
  json_object_set_new(q, "family", json_string(vi_family_name(vi_fit_family(f))));
  if (vi_family_ranked(vi_fit_family(f)))
    json_object_set_new(q, "rank", json_integer((json_int_t)vi_fit_family_rank(f)));
  json_object_set_new(q, "mean", qm);
  json_object_set_new(q, "sd", qs);
  json_object_set_new(root, "q", q);

  /* --covariance lrvb: Sigma_LR (null past JSON_COV_MAX coordinates) and its sds, in the
   * unconstrained space */
  json_t *lr = json_null();
  if (o->have_lrvb) {
    size_t D = vi_fit_dim(f);
    lr = json_object();
    json_t *ls = json_array(), *lc = D <= JSON_COV_MAX ? json_array() : json_null();
    for (size_t i = 0; i < D; i++) {
      json_array_append_new(ls, num(sqrt(o->lrvb_cov[i * D + i])));
      if (json_is_null(lc))
        continue;
      json_t *row = json_array();
      for (size_t j = 0; j < D; j++)
        json_array_append_new(row, num(o->lrvb_cov[i * D + j]));
      json_array_append_new(lc, row);
    }
    json_object_set_new(lr, "sd", ls);
    json_object_set_new(lr, "cov", lc);
    json_object_set_new(lr, "draws", json_integer((json_int_t)o->lrvb_info.draws));
    json_object_set_new(lr, "n_points", json_integer((json_int_t)o->lrvb_info.n_points));
    json_object_set_new(lr, "seconds", num(o->lrvb_info.seconds));
  }
  json_object_set_new(root, "lrvb", lr);
  json_t *rs = json_null();
  if (d && d->resample) {
    rs = json_object();
    json_object_set_new(rs, "method", json_string("psis"));
    json_object_set_new(rs, "from_draws", json_integer((json_int_t)d->resample_from));
    json_object_set_new(rs, "khat", num(d->resample_khat));
    json_object_set_new(rs, "done", json_boolean(d->resampled));
  }
  json_object_set_new(root, "resample", rs);

  /* The output summary, in output order. */
  json_t *outs = json_array();
  for (size_t j = 0; d && j < d->n_out; j++) {
    const cli_column_summary *s = &d->summary[j];
    json_t *r = json_object();
    json_object_set_new(r, "name", json_string(d->names[j]));
    json_object_set_new(r, "mean", num(s->mean));
    json_object_set_new(r, "sd", num(s->sd));
    json_object_set_new(r, "q5", num(s->q5));
    json_object_set_new(r, "q50", num(s->q50));
    json_object_set_new(r, "q95", num(s->q95));
    json_object_set_new(r, "at_mean_of_q", num(d->mean_out[j]));
    json_array_append_new(outs, r);
  }
  json_object_set_new(root, "output_draws", json_integer(d ? (json_int_t)d->n : 0));
  json_object_set_new(root, "outputs", outs);

  int rc = json_dumpf(root, fp, JSON_INDENT(2) | JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER);
  json_decref(root);
  if (rc == 0)
    fputc('\n', fp);
  return rc != 0 || ferror(fp) ? -1 : 0;
}

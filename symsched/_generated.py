"""Generated numpy code of the derivations: DO NOT EDIT.

Written by ``python -m symsched._codegen`` from the SymPy derivations of
:mod:`symsched._specs` (SymPy's NumPyPrinter, as ``sympy.lambdify(..., cse=True)`` prints them);
regenerate with that command after changing a derivation. Read by :mod:`symsched._compiled`.
"""

# ruff: noqa
# fmt: off
# mypy: ignore-errors

import numpy

# ddim_gain_rho
def _ddim_gain_rho(a, b, lam):
    return (a*b + lam)/(a**2 + lam)


# variance_loss_step
def _variance_loss_step(a, b, lam):
    return lam*(a - b)**2/((a**2 + lam)*(b**2 + lam))


# cos2_angle_step
def _cos2_angle_step(a, b, lam):
    return (a*b + lam)**2/((a**2 + lam)*(b**2 + lam))


# variance_loss_from_pure_noise
def _variance_loss_from_pure_noise(b, lam):
    return lam/(b**2 + lam)


# cos2_pure_noise
def _cos2_pure_noise(b, lam):
    x0 = b**2
    return x0/(lam + x0)


# pure_noise_first_step_variance
def _pure_noise_first_step_variance(b):
    return b**2


# prior_start_log_ratio
def _prior_start_log_ratio(a, lam):
    return -numpy.log1p(lam/a**2)


# prior_start_log_ratio_stable
def _prior_start_log_ratio_stable(a, lam):
    return -numpy.logaddexp(0, -2*numpy.log(a) + numpy.log(lam))


# ddim.log_loss
def _ddim_log_loss(a, b, lam):
    x0 = numpy.log(lam)
    return x0 + 2*numpy.log(a - b) - numpy.logaddexp(x0, 2*numpy.log(a)) - numpy.logaddexp(x0, 2*numpy.log(b))


# ddim.log_cos2
def _ddim_log_cos2(a, b, lam):
    x0 = numpy.log(a)
    x1 = numpy.log(lam)
    x2 = numpy.log(b)
    return -numpy.logaddexp(2*x0, x1) - numpy.logaddexp(x1, 2*x2) + 2*numpy.logaddexp(x1, x0 + x2)


# ddim.log_loss_inf
def _ddim_log_loss_inf(b, lam):
    x0 = numpy.log(lam)
    return x0 - numpy.logaddexp(x0, 2*numpy.log(b))


# ddim.log_cos2_inf
def _ddim_log_cos2_inf(b, lam):
    x0 = 2*numpy.log(b)
    return x0 - numpy.logaddexp(x0, numpy.log(lam))


# linear.ancestral.step
def _linear_ancestral_step(a, b, a_prev, lam, eta):
    x0 = a**2
    return (b*numpy.sqrt(-eta**2*(-b**2 + x0) + x0) + lam)/(lam + x0)


# linear.ancestral.first
def _linear_ancestral_first(a, b, a_prev, lam, eta):
    x0 = a**2
    return (b*numpy.sqrt(-eta**2*(-b**2 + x0) + x0) + lam)/(lam + x0)


# linear.ancestral.to_zero
def _linear_ancestral_to_zero(a, b, a_prev, lam, eta):
    return lam/(a**2 + lam)


# linear.ancestral.noise
def _linear_ancestral_noise(a, b, a_prev, lam, eta):
    x0 = a**2
    x1 = b**2
    return eta**2*x1*(x0 - x1)/x0


# linear.ancestral.pure_noise
def _linear_ancestral_pure_noise(b, lam, eta):
    return b*numpy.sqrt(1 - eta**2)


# linear.ancestral.pure_noise_noise
def _linear_ancestral_pure_noise_noise(b, lam, eta):
    return b**2*eta**2


# linear.ddim.step
def _linear_ddim_step(a, b, a_prev, lam):
    return (a*b + lam)/(a**2 + lam)


# linear.ddim.first
def _linear_ddim_first(a, b, a_prev, lam):
    return (a*b + lam)/(a**2 + lam)


# linear.ddim.to_zero
def _linear_ddim_to_zero(a, b, a_prev, lam):
    return lam/(a**2 + lam)


# linear.ddim.pure_noise
def _linear_ddim_pure_noise(b, lam):
    return b


# linear.dpmpp-2m.step
def _linear_dpmpp_2m_step(a, b, a_prev, lam):
    x0 = a**2 + lam
    x1 = numpy.log(a)
    x2 = numpy.log(a_prev)
    x3 = -x1 + x2
    return (1/2)*(2*b*x0*x3 - lam*(-a + b)*(-x1 + 2*x2 - numpy.log(b)))/(a*x0*x3)


# linear.dpmpp-2m.first
def _linear_dpmpp_2m_first(a, b, a_prev, lam):
    return (a*b + lam)/(a**2 + lam)


# linear.dpmpp-2m.to_zero
def _linear_dpmpp_2m_to_zero(a, b, a_prev, lam):
    return lam/(a**2 + lam)


# linear.dpmpp-2m.history
def _linear_dpmpp_2m_history(a, b, a_prev, lam):
    x0 = numpy.log(a)
    return (1/2)*lam*(-a + b)*(x0 - numpy.log(b))/(a*(a_prev**2 + lam)*(-x0 + numpy.log(a_prev)))


# linear.dpmpp-2m.pure_noise
def _linear_dpmpp_2m_pure_noise(b, lam):
    return b


# linear.euler-vp.step
def _linear_euler_vp_step(a, b, a_prev, lam):
    x0 = a**2
    x1 = b**2 + 1
    return numpy.sqrt(x1)*(-(1 - lam)*numpy.log1p((a - b)*(a + b)/x1)/(2*lam + 2*x0) + 1)/numpy.sqrt(x0 + 1)


# linear.euler-vp.first
def _linear_euler_vp_first(a, b, a_prev, lam):
    x0 = a**2
    x1 = b**2 + 1
    return numpy.sqrt(x1)*(-(1 - lam)*numpy.log1p((a - b)*(a + b)/x1)/(2*lam + 2*x0) + 1)/numpy.sqrt(x0 + 1)


# linear.euler-vp.to_zero
def _linear_euler_vp_to_zero(a, b, a_prev, lam):
    x0 = a**2
    return (-(1 - lam)*numpy.log1p(x0)/(2*lam + 2*x0) + 1)/numpy.sqrt(x0 + 1)


# linear.euler-vp.pure_noise
def _linear_euler_vp_pure_noise(b, lam):
    return numpy.sqrt(b**2 + 1)


# linear.exact-flow.step
def _linear_exact_flow_step(a, b, a_prev, lam):
    return numpy.sqrt(b**2 + lam)/numpy.sqrt(a**2 + lam)


# linear.exact-flow.first
def _linear_exact_flow_first(a, b, a_prev, lam):
    return numpy.sqrt(b**2 + lam)/numpy.sqrt(a**2 + lam)


# linear.exact-flow.to_zero
def _linear_exact_flow_to_zero(a, b, a_prev, lam):
    return numpy.sqrt(lam)/numpy.sqrt(a**2 + lam)


# linear.exact-flow.pure_noise
def _linear_exact_flow_pure_noise(b, lam):
    return numpy.sqrt(b**2 + lam)


# linear.flow-heun.step
def _linear_flow_heun_step(a, b, a_prev, lam):
    x0 = a**2
    x1 = b**2
    x2 = 2*lam**2
    x3 = lam*x0
    x4 = b**3
    x5 = 2*x4
    return (1/2)*(a*x2 + a*x5 + 3*b*x3 + 3*lam*x1 + lam*x4 + x0*x5 + x2 + x3)/((a + 1)*(lam + x0)*(lam + x1))


# linear.flow-heun.first
def _linear_flow_heun_first(a, b, a_prev, lam):
    x0 = a**2
    x1 = b**2
    x2 = 2*lam**2
    x3 = lam*x0
    x4 = b**3
    x5 = 2*x4
    return (1/2)*(a*x2 + a*x5 + 3*b*x3 + 3*lam*x1 + lam*x4 + x0*x5 + x2 + x3)/((a + 1)*(lam + x0)*(lam + x1))


# linear.flow-heun.to_zero
def _linear_flow_heun_to_zero(a, b, a_prev, lam):
    return lam/(a**2 + lam)


# linear.flow-heun.pure_noise
def _linear_flow_heun_pure_noise(b, lam):
    return numpy.select([numpy.equal(b, 0),True], [0,(b**3 + (3/2)*b*lam + (1/2)*lam)/(b**2 + lam)], default=numpy.nan)


# linear.heun.step
def _linear_heun_step(a, b, a_prev, lam):
    x0 = a**2
    x1 = b**2
    return (1/2)*(2*a*b**3 + 2*lam**2 + lam*x0 + 3*lam*x1)/((lam + x0)*(lam + x1))


# linear.heun.first
def _linear_heun_first(a, b, a_prev, lam):
    x0 = a**2
    x1 = b**2
    return (1/2)*(2*a*b**3 + 2*lam**2 + lam*x0 + 3*lam*x1)/((lam + x0)*(lam + x1))


# linear.heun.to_zero
def _linear_heun_to_zero(a, b, a_prev, lam):
    return lam/(a**2 + lam)


# family.tangent.rho
def _family_tangent_rho(u, c, sigma_max, sigma_min):
    x0 = c**(-1.0)
    x1 = numpy.arctan(sigma_max*x0)
    return c*numpy.tan(u*(-x1 + numpy.arctan(sigma_min*x0)) + x1)


# family.tangent.progress_of_rho
def _family_tangent_progress_of_rho(level, c, sigma_max, sigma_min):
    x0 = c**(-1.0)
    x1 = numpy.arctan(sigma_max*x0)
    return (x1 - numpy.arctan(level*x0))/(x1 - numpy.arctan(sigma_min*x0))


# family.karras.rho
def _family_karras_rho(u, karras_rho, sigma_max, sigma_min):
    x0 = karras_rho**(-1.0)
    x1 = sigma_max**x0
    return (u*(sigma_min**x0 - x1) + x1)**karras_rho


# family.karras.progress_of_rho
def _family_karras_progress_of_rho(level, karras_rho, sigma_max, sigma_min):
    x0 = karras_rho**(-1.0)
    x1 = sigma_max**x0
    return (-level**x0 + x1)/(-sigma_min**x0 + x1)


# family.loglinear.rho
def _family_loglinear_rho(u, sigma_max, sigma_min):
    return sigma_max*numpy.exp(u*(-numpy.log(sigma_max) + numpy.log(sigma_min)))


# family.loglinear.progress_of_rho
def _family_loglinear_progress_of_rho(level, sigma_max, sigma_min):
    return -numpy.log(level/sigma_max)/(numpy.log(sigma_max) - numpy.log(sigma_min))


# family.vp-linear.rho
def _family_vp_linear_rho(u, beta_max, beta_min, sigma_max, sigma_min, t_max, t_min):
    x0 = t_max - u*(t_max - t_min)
    return numpy.sqrt(numpy.expm1(beta_min*x0 + (1/2)*x0**2*(beta_max - beta_min)))


# family.vp-linear.progress_of_rho
def _family_vp_linear_progress_of_rho(level, beta_max, beta_min, sigma_max, sigma_min, t_max, t_min):
    x0 = 2*numpy.log1p(level**2)
    return (t_max - (-beta_min + numpy.sqrt(beta_max*x0 + beta_min**2 - beta_min*x0))/(beta_max - beta_min))/(t_max - t_min)


# family.vp-linear.rho_of_t
def _family_vp_linear_rho_of_t(t, beta_max, beta_min):
    return numpy.sqrt(numpy.expm1(beta_min*t + (1/2)*t**2*(beta_max - beta_min)))


# family.vp-linear.t_of_rho
def _family_vp_linear_t_of_rho(level, beta_max, beta_min):
    x0 = 2*numpy.log1p(level**2)
    return (-beta_min + numpy.sqrt(beta_max*x0 + beta_min**2 - beta_min*x0))/(beta_max - beta_min)


# family.cosine.rho
def _family_cosine_rho(u, s_offset, sigma_max, sigma_min, t_max, t_min):
    x0 = (1/2)*numpy.pi/(s_offset + 1)
    return numpy.sqrt(numpy.cos(s_offset*x0)**2/numpy.cos(x0*(s_offset + t_max - u*(t_max - t_min)))**2 - 1)


# family.cosine.progress_of_rho
def _family_cosine_progress_of_rho(level, s_offset, sigma_max, sigma_min, t_max, t_min):
    x0 = numpy.pi*s_offset
    x1 = 2*numpy.arccos(numpy.cos((1/2)*x0/(s_offset + 1))/numpy.sqrt(level**2 + 1))
    return (t_max - (s_offset*x1 - x0 + x1)/numpy.pi)/(t_max - t_min)


# family.cosine.rho_of_t
def _family_cosine_rho_of_t(t, s_offset):
    x0 = (1/2)*numpy.pi/(s_offset + 1)
    return numpy.sqrt(numpy.cos(s_offset*x0)**2/numpy.cos(x0*(s_offset + t))**2 - 1)


# family.cosine.t_of_rho
def _family_cosine_t_of_rho(level, s_offset):
    x0 = numpy.pi*s_offset
    x1 = 2*numpy.arccos(numpy.cos((1/2)*x0/(s_offset + 1))/numpy.sqrt(level**2 + 1))
    return (s_offset*x1 - x0 + x1)/numpy.pi


FUNCTIONS = {
    'ddim_gain_rho': _ddim_gain_rho,
    'variance_loss_step': _variance_loss_step,
    'cos2_angle_step': _cos2_angle_step,
    'variance_loss_from_pure_noise': _variance_loss_from_pure_noise,
    'cos2_pure_noise': _cos2_pure_noise,
    'pure_noise_first_step_variance': _pure_noise_first_step_variance,
    'prior_start_log_ratio': _prior_start_log_ratio,
    'prior_start_log_ratio_stable': _prior_start_log_ratio_stable,
    'ddim.log_loss': _ddim_log_loss,
    'ddim.log_cos2': _ddim_log_cos2,
    'ddim.log_loss_inf': _ddim_log_loss_inf,
    'ddim.log_cos2_inf': _ddim_log_cos2_inf,
    'linear.ancestral.step': _linear_ancestral_step,
    'linear.ancestral.first': _linear_ancestral_first,
    'linear.ancestral.to_zero': _linear_ancestral_to_zero,
    'linear.ancestral.noise': _linear_ancestral_noise,
    'linear.ancestral.pure_noise': _linear_ancestral_pure_noise,
    'linear.ancestral.pure_noise_noise': _linear_ancestral_pure_noise_noise,
    'linear.ddim.step': _linear_ddim_step,
    'linear.ddim.first': _linear_ddim_first,
    'linear.ddim.to_zero': _linear_ddim_to_zero,
    'linear.ddim.pure_noise': _linear_ddim_pure_noise,
    'linear.dpmpp-2m.step': _linear_dpmpp_2m_step,
    'linear.dpmpp-2m.first': _linear_dpmpp_2m_first,
    'linear.dpmpp-2m.to_zero': _linear_dpmpp_2m_to_zero,
    'linear.dpmpp-2m.history': _linear_dpmpp_2m_history,
    'linear.dpmpp-2m.pure_noise': _linear_dpmpp_2m_pure_noise,
    'linear.euler-vp.step': _linear_euler_vp_step,
    'linear.euler-vp.first': _linear_euler_vp_first,
    'linear.euler-vp.to_zero': _linear_euler_vp_to_zero,
    'linear.euler-vp.pure_noise': _linear_euler_vp_pure_noise,
    'linear.exact-flow.step': _linear_exact_flow_step,
    'linear.exact-flow.first': _linear_exact_flow_first,
    'linear.exact-flow.to_zero': _linear_exact_flow_to_zero,
    'linear.exact-flow.pure_noise': _linear_exact_flow_pure_noise,
    'linear.flow-heun.step': _linear_flow_heun_step,
    'linear.flow-heun.first': _linear_flow_heun_first,
    'linear.flow-heun.to_zero': _linear_flow_heun_to_zero,
    'linear.flow-heun.pure_noise': _linear_flow_heun_pure_noise,
    'linear.heun.step': _linear_heun_step,
    'linear.heun.first': _linear_heun_first,
    'linear.heun.to_zero': _linear_heun_to_zero,
    'family.tangent.rho': _family_tangent_rho,
    'family.tangent.progress_of_rho': _family_tangent_progress_of_rho,
    'family.karras.rho': _family_karras_rho,
    'family.karras.progress_of_rho': _family_karras_progress_of_rho,
    'family.loglinear.rho': _family_loglinear_rho,
    'family.loglinear.progress_of_rho': _family_loglinear_progress_of_rho,
    'family.vp-linear.rho': _family_vp_linear_rho,
    'family.vp-linear.progress_of_rho': _family_vp_linear_progress_of_rho,
    'family.vp-linear.rho_of_t': _family_vp_linear_rho_of_t,
    'family.vp-linear.t_of_rho': _family_vp_linear_t_of_rho,
    'family.cosine.rho': _family_cosine_rho,
    'family.cosine.progress_of_rho': _family_cosine_progress_of_rho,
    'family.cosine.rho_of_t': _family_cosine_rho_of_t,
    'family.cosine.t_of_rho': _family_cosine_t_of_rho,
}

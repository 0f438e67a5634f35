"""Rule `echem_fit`: every scan's spectrum and cycling files in, one fitted record (JSON) each."""
from tomopress.echem.stage import fit_scan_files
from tomopress.logs import log_to_file

log_to_file(snakemake.log[0])
fit_scan_files(
    scans=snakemake.params.scans,
    out_paths=list(snakemake.output),
    circuit=snakemake.params.circuit,
    r_se_elements=snakemake.params.r_se_elements,
    r_ct_element=snakemake.params.r_ct_element,
    c_dl_element=snakemake.params.c_dl_element,
    initial_guess=snakemake.params.initial_guess,
    weight_by_modulus=snakemake.params.weight_by_modulus,
    kk_max_residual_rms=snakemake.params.kk_max_residual_rms,
)

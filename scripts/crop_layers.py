"""Rule `crop_layers`: the rows of each layer and the x-y region, as JSON."""
from tomopress.intake.ranges import parse_range
from tomopress.logs import log_to_file
from tomopress.segment.crop import locate_layers_file

log_to_file(snakemake.log[0])
locate_layers_file(
    snakemake.input[0],
    snakemake.output.layers,
    composite_rows=parse_range(snakemake.params.composite_rows) if snakemake.params.composite_rows else None,
    separator_rows=parse_range(snakemake.params.separator_rows) if snakemake.params.separator_rows else None,
    roi_xy=(
        tuple(v for part in snakemake.params.roi_xy.split(",") for v in parse_range(part))
        if snakemake.params.roi_xy
        else None
    ),
    roi_size_px=snakemake.params.roi_size_px,
    transition_rows=snakemake.params.transition_rows,
    closing_radius_px=snakemake.params.closing_radius_px,
    tilt_correction=snakemake.params.tilt_correction,
    qc_png=snakemake.output.qc,
)

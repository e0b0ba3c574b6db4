// One table of rows, the way every screen draws them: scrolling wrapper, a caption (shown, or
// only for screen readers), column headers (th scope="col") and a row per item.
// columns: [{ key, header, cell(row, index) }]; `stacking` lays each row out as a card on
// narrow screens (every cell labelled with its column's header).
export function DataTable({
  caption,
  captionHidden = false,
  columns,
  rows,
  rowKey,
  rowClassName,
  rowProps,
  className,
  id,
  stacking = false,
}) {
  const classes = [className, stacking ? "stacking" : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className="table-wrap">
      <table id={id} className={classes}>
        <caption className={captionHidden ? "visually-hidden" : undefined}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column.key}>
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={rowKey(row, index)} className={rowClassName?.(row, index)} {...rowProps?.(row, index)}>
              {columns.map((column) => (
                <td key={column.key} data-label={stacking ? column.header : undefined}>
                  {column.cell(row, index)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

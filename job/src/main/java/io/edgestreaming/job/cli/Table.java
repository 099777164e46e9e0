package io.edgestreaming.job.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** A plain text table: columns padded to their widest cell, the last one never padded (reasons are long). */
final class Table {
    private final List<String[]> rows = new ArrayList<>();
    private final int columns;

    Table(String... header) {
        this.columns = header.length;
        rows.add(header);
    }

    void add(Object... cells) {
        String[] row = new String[columns];
        for (int i = 0; i < columns; i++) {
            Object cell = i < cells.length ? cells[i] : null;
            // One line per row: a reason quoting a server's answer may hold newlines.
            row[i] = cell == null ? "-" : cell.toString().replace('\n', ' ').replace('\r', ' ');
        }
        rows.add(row);
    }

    int size() {
        return rows.size() - 1;
    }

    void print(PrintWriter out) {
        int[] width = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < columns - 1; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < columns; i++) {
                line.append(row[i]);
                if (i < columns - 1) {
                    line.append(" ".repeat(width[i] - row[i].length() + 2));
                }
            }
            out.println(line.toString().stripTrailing());
        }
        out.flush();
    }
}

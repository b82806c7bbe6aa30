/** The version printed by `polythene --version`. */
export const VERSION = "0.1.0";

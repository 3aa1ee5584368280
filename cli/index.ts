import { main } from "./program";

void main(process.argv);
